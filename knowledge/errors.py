"""Errors a user can act on. Each carries a one-line reason fit to show as it is."""


class KnowledgeError(Exception):
    """Base for every error this package raises on purpose."""


class RejectedFile(KnowledgeError):
    """A file that cannot become part of a knowledge base; `str()` is the reason."""


class ModelMismatch(KnowledgeError):
    """The knowledge base was indexed with another embedding model than the one configured."""


class StoreUnavailable(KnowledgeError):
    """The vector store (a Chroma server) cannot be reached."""
