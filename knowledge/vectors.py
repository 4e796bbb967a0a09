"""Dense vectors in Chroma: embedded on disk by default, or a Chroma server when a URL is set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from knowledge.errors import StoreUnavailable


def open_chroma(path: str | None = None, url: str | None = None) -> Any:
    """A Chroma client with telemetry off: a server at `url`, else on disk at `path`."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url)
        host = parsed.hostname or "127.0.0.1"
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            return chromadb.HttpClient(
                host=host, port=port, ssl=parsed.scheme == "https", settings=settings
            )
        except Exception as exc:  # chromadb raises plain Exceptions here
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {url}: is `chroma run` up?"
            ) from exc
    if not path:
        raise ValueError("open_chroma needs a path or a url")
    return chromadb.PersistentClient(path=path, settings=settings)


@contextmanager
def _reaching(what: str) -> Iterator[None]:
    """A Chroma server that cannot be reached, or stops answering, is StoreUnavailable with a
    one-line reason: a chat then says the assistant is offline, a job waits and is tried again.
    (Embedded Chroma has no connection to lose.)"""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise StoreUnavailable(f"the vector store is unavailable ({what}: {exc})") from exc


# How widely the HNSW graph is searched. At Chroma's default (100), a bot holding a 619-page
# manual beside a one-page datasheet did not find the datasheet's title passage (cosine 0.76 to
# the question) at all: the search stayed among the manual's near-identical contents lines (0.31)
# and the small document was crowded out. At 200 it was found; 400 leaves a margin and still
# costs well under a millisecond on a bot's few thousand vectors. Set on every collection
# opened, older ones included (ef_search can be changed on a collection that exists).
SEARCH_EF = 400


class VectorStore:
    """One Chroma collection: the vectors of one knowledge base, ids shared with the catalog."""

    def __init__(self, client: Any, name: str) -> None:
        self._client = client
        self._name = name
        try:
            # embedding_function=None: we embed ourselves; Chroma's default would fetch a model.
            self._collection = client.get_or_create_collection(
                name=name, metadata={"hnsw:space": "cosine"}, embedding_function=None
            )
            hnsw = (self._collection.configuration or {}).get("hnsw") or {}
            if (hnsw.get("ef_search") or 0) < SEARCH_EF:
                self._collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        except Exception as exc:  # any failure to open the collection
            raise StoreUnavailable(f"the vector store is unavailable ({exc})") from exc

    def add(self, ids: list[str], vectors: list[list[float]], version: str) -> None:
        batch = 4000  # under Chroma's max batch size
        for start in range(0, len(ids), batch):
            with _reaching("writing"):
                self._collection.upsert(
                    ids=ids[start : start + batch],
                    embeddings=vectors[start : start + batch],
                    metadatas=[{"version": version}] * len(ids[start : start + batch]),
                )

    def delete_version(self, version: str) -> None:
        with _reaching("deleting"):
            self._collection.delete(where={"version": version})

    def query(self, vector: list[float], limit: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) of the nearest vectors."""
        with _reaching("searching"):
            count = self._collection.count()
            if count == 0:
                return []
            result = self._collection.query(
                query_embeddings=[vector], n_results=min(limit, count), include=["distances"]
            )
        return [
            (chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def drop(self) -> None:
        with _reaching("deleting"):
            self._client.delete_collection(self._name)

    def check(self) -> None:
        """Raises StoreUnavailable unless the store answers (for /readyz)."""
        with _reaching("checking"):
            self._collection.count()
