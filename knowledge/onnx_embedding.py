"""A sentence-transformers model run by ONNX Runtime: the same vectors, without torch at start.

Importing sentence-transformers (torch, transformers, scipy, pandas) takes about 6.5 s of a
process's start on two cores and 500 MB of memory before the first passage is embedded;
ONNX Runtime and the tokenizers library take 0.2 s. Every `chatbot search`, every server start
and every small ingest paid that, for work that takes a tenth of a second. The arithmetic is
the same: on 555 passages of the 619-page manual, the vectors of ONNX Runtime and of torch in
float32 differ by a cosine of 1e-7 at worst, and embed at the same speed (about 29 passages of
256 tokens a second on two cores).

The model is exported to ONNX once from the local sentence-transformers folder (torch's
exporter), checked against torch on a probe, and kept in the cache folder under a key of the
model's files, so a model replaced in place is exported again. Only the models that ONNX can
stand in for exactly are exported: a transformer, mean pooling, and (optionally) unit length;
any other model is run by sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# The export's format: a change here must not reuse files made by an older export.
_FORMAT = "1"
# What a model run another way (exported to ONNX, or in bfloat16: knowledge/embeddings.py) must
# give the same vectors of: short and long texts in the chat's languages, padded in one batch.
PROBE = [
    "How much is an iPhone 14 battery replacement?",
    "Kedai buka jam 9 pagi, tutup hari Ahad.",
    "我们星期六营业到下午五点。",
    "Walk-in repairs are welcome; bring your receipt for warranty claims. " * 30,
]


def _modules(model_dir: Path) -> list[str] | None:
    """The model's sentence-transformers modules by type name, or None when it has no list."""
    listed = model_dir / "modules.json"
    if not listed.is_file():
        return None
    return [
        str(module.get("type", "")).rsplit(".", 1)[-1] for module in json.loads(listed.read_text())
    ]


def supported(model_dir: Path) -> bool:
    """Whether ONNX Runtime gives this model's vectors exactly: a transformer, mean pooling,
    optionally unit length, and a fast tokenizer's file."""
    modules = _modules(model_dir)
    if modules is None or modules[:2] != ["Transformer", "Pooling"]:
        return False
    if any(m != "Normalize" for m in modules[2:]):
        return False
    pooling = model_dir / "1_Pooling" / "config.json"
    if not pooling.is_file() or not (model_dir / "tokenizer.json").is_file():
        return False
    modes = {
        k: v for k, v in json.loads(pooling.read_text()).items() if k.startswith("pooling_mode")
    }
    return (
        modes.get("pooling_mode_mean_tokens") is True and sum(bool(v) for v in modes.values()) == 1
    )


def cache_key(model_dir: Path) -> str:
    """A key of the model's files (names, sizes, modification times) and the export's format."""
    digest = hashlib.sha256(f"{_FORMAT}\n{model_dir.resolve()}\n".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(
            f"{path.relative_to(model_dir)}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:20]


class OnnxSentenceModel:
    """Mean-pooled, optionally unit-length vectors of a transformer exported to ONNX."""

    def __init__(
        self, model_dir: Path, onnx_file: Path, threads: int, max_tokens: int | None = None
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        config = (
            json.loads((model_dir / "sentence_bert_config.json").read_text())
            if (model_dir / "sentence_bert_config.json").is_file()
            else {}
        )
        self.max_tokens = int(config.get("max_seq_length") or 512)
        if max_tokens:
            self.max_tokens = min(self.max_tokens, max_tokens)
        self.normalize = "Normalize" in (_modules(model_dir) or [])
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()
        self._onnx_file = onnx_file
        self._sessions: dict[int, Any] = {}
        self._runtime = onnxruntime
        self.threads = threads
        self._inputs = {i.name for i in self._session(threads).get_inputs()}

    def _session(self, threads: int) -> Any:
        """One session per thread count (the reader beside an ingest takes a core)."""
        session = self._sessions.get(threads)
        if session is None:
            options = self._runtime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = self._runtime.InferenceSession(
                str(self._onnx_file), options, providers=["CPUExecutionProvider"]
            )
            self._sessions[threads] = session
        return session

    def encode(self, texts: list[str], batch_size: int, threads: int | None = None) -> Any:
        """The vectors of `texts`, in order: batches of similar lengths, as sentence-transformers
        makes them, so that padding costs little."""
        import numpy as np

        session = self._session(threads or self.threads)
        encoded = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i].ids))
        out: list[Any] = [None] * len(texts)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            width = max(len(encoded[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encoded[i].ids)
                ids[row, :n] = encoded[i].ids
                mask[row, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            hidden = session.run(None, feed)[0]
            summed = (hidden * mask[..., None]).sum(axis=1)
            vectors = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
            if self.normalize:
                vectors = vectors / np.clip(
                    np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None
                )
            for row, i in enumerate(batch):
                out[i] = vectors[row]
        return np.array(out, dtype=np.float32).reshape(len(texts), -1)


def export(model_dir: Path, target: Path, reference: Any) -> None:
    """Export the transformer of `model_dir` to `target` with torch's exporter, and keep it only
    if its vectors of a probe are those of `reference` (the loaded sentence-transformers model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    sample = tokenizer(PROBE, padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        """The transformer's last hidden states, from positional inputs (what ONNX takes)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed: processes starting together never read half a file.
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(fd)
    try:
        axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
        with torch.no_grad(), warnings.catch_warnings():
            # The exporter warns of indexing with negative indices in general; the probe
            # below checks the exported model's vectors themselves.
            warnings.simplefilter("ignore", UserWarning)
            torch.onnx.export(
                Hidden(),
                tuple(sample[n] for n in names),
                partial,
                input_names=names,
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        import numpy as np

        threads = max(1, int(torch.get_num_threads()))
        # Read as far as the reference reads (embedding.max_tokens): the probe's long text
        # is cut where the reference cuts it.
        reads = getattr(reference, "max_seq_length", None)
        got = OnnxSentenceModel(model_dir, Path(partial), threads, reads).encode(PROBE, 8)
        want = np.asarray(reference.encode(PROBE, normalize_embeddings=False))
        cosine = (got * want).sum(axis=1) / (
            np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1)
        )
        if float(cosine.min()) < 0.9999:
            raise RuntimeError(
                f"exported vectors differ from the model's (cosine {cosine.min():.5f})"
            )
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
