"""The embedding model on ONNX Runtime gives the vectors sentence-transformers gives.

ONNX Runtime runs the packaged model without importing torch (a process starts in 0.2 s, not
6.5 s: `python -m bench.startup`); these tests hold it to the same vectors and rankings, and
to falling back to sentence-transformers where it cannot stand in for a model.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from knowledge.embeddings import SentenceEmbedder, resolve_model_path
from knowledge.errors import KnowledgeError

TEXTS = [
    "How much is an iPhone 14 battery replacement?",
    "iPhone battery: RM150, done in 45 minutes.",
    "Berapa harga tukar bateri untuk Samsung?",
    "我们星期六营业到下午五点。",
    "Walk-in repairs are welcome; bring your receipt for warranty claims. " * 40,  # past 256
]


def _cosines(a: list[list[float]], b: list[list[float]]) -> list[float]:
    return [
        sum(x * y for x, y in zip(u, v, strict=True))
        / (math.sqrt(sum(x * x for x in u)) * math.sqrt(sum(y * y for y in v)))
        for u, v in zip(a, b, strict=True)
    ]


@pytest.fixture(scope="module")
def torch_vectors() -> list[list[float]]:
    return SentenceEmbedder(runtime="torch", precision="float32").embed_documents(TEXTS)


def test_onnx_runtime_gives_the_vectors_and_rankings_of_sentence_transformers(
    tmp_path: Path, torch_vectors: list[list[float]]
) -> None:
    onnx = SentenceEmbedder(runtime="onnx", cache_dir=tmp_path)
    got = onnx.embed_documents(TEXTS)
    assert onnx.onnx is not None
    assert min(_cosines(got, torch_vectors)) > 0.99999
    assert all(abs(sum(x * x for x in v) - 1) < 1e-4 for v in got)  # unit length, as before
    # The question finds the row that answers it first, whichever runtime embedded it.
    for vectors in (got, torch_vectors):
        question, *passages = vectors
        scores = [sum(x * y for x, y in zip(question, p, strict=True)) for p in passages]
        assert scores.index(max(scores)) == 0
    # Embedded once, kept: a second embedder (a second process) uses the exported file.
    (exported,) = (tmp_path / "onnx").glob("*.onnx")
    stamp = exported.stat().st_mtime_ns
    again = SentenceEmbedder(runtime="onnx", cache_dir=tmp_path).embed_query(TEXTS[0])
    assert min(_cosines([again], [got[0]])) > 0.999999
    assert exported.stat().st_mtime_ns == stamp


def test_a_damaged_exported_model_is_exported_again(
    tmp_path: Path, torch_vectors: list[list[float]]
) -> None:
    SentenceEmbedder(runtime="onnx", cache_dir=tmp_path).embed_query("warm-up")
    (exported,) = (tmp_path / "onnx").glob("*.onnx")
    size = exported.stat().st_size
    exported.write_bytes(exported.read_bytes()[: size // 3])  # a disk that filled up mid-write
    got = SentenceEmbedder(runtime="onnx", cache_dir=tmp_path).embed_documents(TEXTS)
    assert min(_cosines(got, torch_vectors)) > 0.99999
    assert exported.stat().st_size == size


def test_a_cache_folder_that_cannot_be_written_still_embeds_by_sentence_transformers(
    tmp_path: Path, torch_vectors: list[list[float]]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    embedder = SentenceEmbedder(runtime="auto", cache_dir=blocked)
    got = embedder.embed_documents(TEXTS)
    assert embedder.onnx is None
    assert min(_cosines(got, torch_vectors)) > 0.9999
    with pytest.raises(KnowledgeError, match="could not be run on ONNX Runtime"):
        SentenceEmbedder(runtime="onnx", cache_dir=blocked).embed_query("hi")


def test_a_model_onnx_cannot_stand_in_for_is_run_by_sentence_transformers(
    tmp_path: Path,
) -> None:
    from sentence_transformers import SentenceTransformer

    model = tmp_path / "cls-model"
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), model)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(config))

    auto = SentenceEmbedder(str(model), runtime="auto", cache_dir=tmp_path / "cache")
    got = auto.embed_documents(TEXTS[:3])
    assert auto.onnx is None
    want = SentenceTransformer(str(model), device="cpu").encode(
        TEXTS[:3], normalize_embeddings=True
    )
    assert min(_cosines(got, want.tolist())) > 0.9999
    assert not (tmp_path / "cache" / "onnx").exists()

    with pytest.raises(KnowledgeError, match="cannot run on ONNX Runtime"):
        SentenceEmbedder(str(model), runtime="onnx", cache_dir=tmp_path / "cache").embed_query("hi")


def _bfloat16_unsafe_copy(folder: Path) -> Path:
    """The packaged model with its first value projection given a large term that cancels
    exactly over the layer norm's output: float32 keeps the vectors (cosine 0.99999 to the
    original), bfloat16's rounding leaves the large term in and the vectors lose their meaning
    (cosines near 0), on any CPU. A faulty bfloat16 kernel does the same to a sound model."""
    import torch
    from transformers import AutoModel

    model = folder / "bf16-unsafe"
    shutil.copytree(resolve_model_path("all-MiniLM-L6-v2"), model)
    bert = AutoModel.from_pretrained(str(model), local_files_only=True)
    norm = bert.embeddings.LayerNorm
    value = bert.encoder.layer[0].attention.self.value
    with torch.no_grad():
        value.weight[0] += 10_000 / norm.weight
        value.bias[0] -= 10_000 * float((norm.bias / norm.weight).sum())
    bert.save_pretrained(str(model))
    return model


def test_bfloat16_is_not_used_where_it_would_change_the_vectors(tmp_path: Path) -> None:
    model = _bfloat16_unsafe_copy(tmp_path)
    want = SentenceEmbedder(str(model), runtime="torch", precision="float32").embed_documents(TEXTS)
    asked = SentenceEmbedder(str(model), runtime="torch", precision="bfloat16")
    got = asked.embed_documents(TEXTS)
    assert min(_cosines(got, want)) > 0.9999
    assert not asked.uses_bfloat16


pytestmark = pytest.mark.contract


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_the_model_reads_a_passage_as_far_as_embedding_max_tokens(
    runtime: str, tmp_path: Path
) -> None:
    """A passage's words past `embedding.max_tokens` (160 by default) do not move its vector on
    either runtime (the keyword index still holds them); read to the model's own 256, they do."""
    head = "Walk-in repairs are welcome; bring your receipt for warranty claims. " * 14
    tails = [head + "We open on Sunday.", head + "Closed on public holidays, and every Monday."]
    cut = SentenceEmbedder(runtime=runtime, precision="float32", cache_dir=tmp_path)  # type: ignore[arg-type]
    assert min(_cosines(*[[v] for v in cut.embed_documents(tails)])) > 0.99999
    whole = SentenceEmbedder(
        runtime=runtime,  # type: ignore[arg-type]
        precision="float32",
        cache_dir=tmp_path,
        max_tokens=None,
    )
    assert max(_cosines(*[[v] for v in whole.embed_documents(tails)])) < 0.9999
