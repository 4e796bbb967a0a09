"""Nothing leaves the premises: every library switch that phones home, off in code.

Set before the libraries are imported and whatever the environment says, because a deployment's
environment (a LANGSMITH_TRACING=true left over from a tutorial) must not send customers'
questions to a cloud service.
"""

from __future__ import annotations

import os

from knowledge.embeddings import force_offline

_OFF = {
    # LangChain's tracing to LangSmith would upload every prompt and answer.
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    # Gradio's usage analytics and its version check.
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def switch_off_phoning_home() -> None:
    force_offline()  # Hugging Face hub and its telemetry
    os.environ.update(_OFF)
    # Chroma's telemetry is switched off where the client is made (knowledge/vectors.py).
