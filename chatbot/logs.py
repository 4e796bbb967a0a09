"""The application log: a file in the data directory. Users see one-line errors; tracebacks
go here. Customers' text is not logged, and as a second line of defence every line is masked
(privacy/masking.py) before it is written: an exception message may quote a message."""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from chatbot.privacy.masking import mask


def configure_logging(data_dir: Path, level: str) -> Path:
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "chatbot.log"
    handler = RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(_MaskingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries that chatter at INFO about things the operator cannot act on.
    for noisy in ("httpx", "chromadb", "sentence_transformers", "pypdf", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))
