"""Nothing leaves the premises: no model download, no telemetry, whatever the configuration."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import corpus


def test_a_hub_model_name_is_refused_instead_of_downloaded(
    tmp_path: Path, run_cli, netlog: Path
) -> None:
    env = {
        "CHATBOT_EMBEDDING__MODEL": "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
    }
    result = run_cli(
        "ingest", str(corpus("md/msia-sg-travel-faq-pca.md")), data_dir=tmp_path, env=env
    )
    assert result.code == 1
    assert "models are never downloaded at run time" in result.err
    assert result.err.count("\n") == 1
    assert not netlog.exists() or not netlog.read_text().strip()


def test_ingest_and_search_make_no_outbound_connection(
    tmp_path: Path, run_cli, netlog: Path
) -> None:
    assert run_cli("ingest", str(corpus("html/blog-post.html")), data_dir=tmp_path).code == 0
    assert run_cli("search", "blog", data_dir=tmp_path).code == 0
    assert not netlog.exists() or not netlog.read_text().strip()


def test_asking_makes_no_outbound_connection_even_with_tracing_switched_on(
    run_cli, demo_shop: Path, netlog: Path
) -> None:
    # A deployment's environment left over from a LangChain tutorial must not upload questions.
    env = {
        "LANGSMITH_TRACING": "true",
        "LANGCHAIN_TRACING_V2": "true",
        "LANGSMITH_API_KEY": "lsv2-not-a-real-key",
        "GRADIO_ANALYTICS_ENABLED": "True",
        "CHATBOT_MODEL__BACKEND": "llamacpp",
    }
    result = run_cli(
        "ask", "--bot", "demo-shop", "Do you open on Sunday?", data_dir=demo_shop, env=env
    )
    assert result.code == 0, result.err
    assert not netlog.exists() or not netlog.read_text().strip()
