"""A bot's knowledge base as a LangChain retriever, so that any LangChain app can use it.

    retriever = KnowledgeRetriever.from_data_dir(Path("data"), "demo-shop", k=4)
    retriever.invoke("Do you deliver to Butterworth?")  # -> list[Document]

Each `Document` is one passage as the bot itself retrieves it (hybrid search: vectors and keywords
fused, FAQ questions standing for their answers); its metadata carries where it comes from and how
well it ranked, so an app can show sources as the bot does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from knowledge.base import KnowledgeBase, check_bot_name
from knowledge.catalog import Catalog
from knowledge.catalog.sqlite import SqliteCatalog
from knowledge.documents import Hit
from knowledge.embeddings import DEFAULT_MODEL, SentenceEmbedder
from knowledge.errors import KnowledgeError
from knowledge.layout import CATALOG_FILE, bot_folder, chroma_folder
from knowledge.retrieval import FusionSettings
from knowledge.vectors import open_chroma


def as_document(hit: Hit) -> Document:
    return Document(
        id=hit.chunk_id,
        page_content=hit.text,
        metadata={
            "source": hit.source,
            "title": hit.title,
            "path": hit.path,
            "page": hit.page,
            "section": hit.section,
            "score": hit.score,
            "similarity": hit.similarity,
        },
    )


class KnowledgeRetriever(BaseRetriever):
    """The `k` best passages of one bot's knowledge base; `invoke(query, k=n)` asks for n."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    knowledge: KnowledgeBase
    k: int = Field(default=4, ge=1)

    @classmethod
    def from_data_dir(
        cls,
        data_dir: Path,
        bot: str,
        *,
        k: int = 4,
        chroma_url: str | None = None,
        database_url: str | None = None,
        fusion: FusionSettings | None = None,
    ) -> KnowledgeRetriever:
        """Open the bot's knowledge base in a data directory, with the
        embedding model it was indexed with (as recorded in its catalog), vectors from the data
        directory's Chroma store or the Chroma server at `chroma_url`; its catalog in the data
        directory, or in the PostgreSQL database at `database_url` (a deployment of several
        servers, as its `database.url` names it). `fusion`: the deployment's `retrieval`
        settings when they are not the defaults."""
        folder = bot_folder(Path(data_dir), check_bot_name(bot))
        catalog: Catalog
        if database_url:
            from sqlalchemy import create_engine

            from knowledge.catalog.postgres import PostgresCatalog

            catalog = PostgresCatalog(create_engine(database_url, pool_pre_ping=True), bot)
            if catalog.get_meta("embedding_model") is None:
                raise KnowledgeError(f"there is no knowledge base for bot {bot!r} there")
        elif (folder / CATALOG_FILE).is_file():
            catalog = SqliteCatalog(folder / CATALOG_FILE)
        else:
            raise KnowledgeError(f"there is no knowledge base for bot {bot!r} in {data_dir}")
        model = catalog.get_meta("embedding_model") or DEFAULT_MODEL
        chroma = open_chroma(url=chroma_url) if chroma_url else None
        if chroma is None:
            chroma = open_chroma(path=str(chroma_folder(Path(data_dir))))
        knowledge = KnowledgeBase(
            bot, folder, chroma, SentenceEmbedder(model), fusion=fusion, catalog=catalog
        )
        return cls(knowledge=knowledge, k=k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        k = int(kwargs.get("k", self.k))
        return [as_document(hit) for hit in self.knowledge.search(query, k=k)]
