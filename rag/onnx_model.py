"""The embedding model as ONNX with int8 weights, exported on this machine from the local sentence-transformers
model (nothing is downloaded) and kept in a cache folder: the first process builds it, later ones load it.

The whole sentence-transformers pipeline is exported as one graph (transformer, mean pooling over the
attention mask, L2 normalization), so pooling and normalization are the torch model's own; the graph also
gives the transformer's token vectors, from which a passage's sentences are pooled (rag.embedding). The
MatMul weights are then quantized to int8 per output channel (onnxruntime's dynamic quantization; activations
are quantized at run time). A folder is built under a temporary name and renamed into place, under a file lock, so two
processes starting at once never see half a model; a folder that fails its checks is rebuilt.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "sentence_embedding"
TOKENS = "token_embeddings"  # the transformer's vector for each word piece, before pooling
MODEL_FILE, TOKENIZER_FILE, META_FILE = "model.onnx", "tokenizer.json", "export.json"
# Changing how the export is made changes this, and so the cache key: old folders are simply not used again.
RECIPE = {"name": "onnx-int8", "version": 2, "exporter": "torch.onnx.export (TorchScript)", "opset": 17,
          "quantization": {"weight_type": "QInt8", "per_channel": True, "reduce_range": True,
                           "op_types": ["MatMul"]}}
MODEL_SUFFIXES = {".json", ".safetensors", ".bin", ".txt", ".model"}


def export_key(model_path: str | os.PathLike) -> dict:
    """What an export depends on: the source model's files (name, size, modification time) and the recipe."""
    folder = Path(model_path).resolve()
    files = {p.relative_to(folder).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns]
             for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix in MODEL_SUFFIXES}
    return {"model": str(folder), "files": files, "recipe": RECIPE}


def export_dir(model_path: str | os.PathLike, cache_root: Path) -> Path:
    """The cache folder of this model's export with the current recipe."""
    digest = hashlib.sha256(json.dumps(export_key(model_path), sort_keys=True).encode()).hexdigest()[:16]
    return cache_root / f"{Path(model_path).resolve().name}-{RECIPE['name']}-{digest}"


def load_meta(folder: Path, key: dict) -> dict | None:
    """The export's description when the folder is complete and intact (checksum) for this key, else None."""
    try:
        meta = json.loads((folder / META_FILE).read_text())
        model = (folder / MODEL_FILE).read_bytes()
        tokenizer_ok = (folder / TOKENIZER_FILE).is_file()
    except (OSError, ValueError):
        return None
    if meta.get("key") != key or not tokenizer_ok or hashlib.sha256(model).hexdigest() != meta.get("model_sha256"):
        return None
    return meta


def ensure_export(model_path: str | os.PathLike, cache_root: Path) -> tuple[Path, dict]:
    """(folder, description) of the export, building it first when it is missing or broken."""
    key, target = export_key(model_path), export_dir(model_path, cache_root)
    meta = load_meta(target, key)
    if meta is not None:
        return target, meta
    cache_root.mkdir(parents=True, exist_ok=True)
    with _build_lock(cache_root / f".{target.name}.lock"):
        meta = load_meta(target, key)  # another process may have built it while this one waited
        if meta is None:
            discard(target)
            for leftover in cache_root.glob(f".{target.name}.building-*"):  # a killed build's (we hold the lock)
                shutil.rmtree(leftover, ignore_errors=True)
            meta = build_export(model_path, key, target)
    return target, meta


def discard(folder: Path) -> None:
    """Remove a broken or half export (moved aside first, so its name is free at once)."""
    if not folder.exists() and not folder.is_symlink():
        return
    log.warning("embedding model cache %s is incomplete or damaged; rebuilding it", folder)
    aside = folder.with_name(f".{folder.name}.broken-{uuid.uuid4().hex[:8]}")
    folder.rename(aside)
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        aside.unlink()


@contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_export(model_path: str | os.PathLike, key: dict, target: Path) -> dict:
    """Export and quantize into a temporary folder beside target, then rename it into place."""
    log.info("building the onnx-int8 embedding model from %s into %s (once per machine)", model_path, target)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.building-"))
    try:
        meta = {"key": key, **export_quantized(model_path, work)}
        meta["model_sha256"] = hashlib.sha256((work / MODEL_FILE).read_bytes()).hexdigest()
        meta["build_seconds"] = round(time.perf_counter() - started, 2)
        (work / META_FILE).write_text(json.dumps(meta, indent=1))
        work.chmod(0o755)  # mkdtemp makes it private; other users of the machine may share the cache
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("built the onnx-int8 embedding model in %.1fs: %s", meta["build_seconds"], target)
    return meta


def export_quantized(model_path: str | os.PathLike, work: Path) -> dict:
    """model.onnx (int8 weights) and tokenizer.json in work; returns what loading them needs to know."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu").eval()
    full = work / "model-fp32.onnx"
    texts = ["a short text", "and a somewhat longer one, so that the first is padded"]
    sample = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
    axes = {**{name: {0: "batch", 1: "tokens"} for name in (*INPUTS, TOKENS)}, OUTPUT: {0: "batch"}}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python conditions it fixed (all shape checks)
        torch.onnx.export(sentence_embedding_module(model), tuple(sample[name] for name in INPUTS), str(full),
                          dynamo=False, input_names=list(INPUTS), output_names=[OUTPUT, TOKENS],
                          dynamic_axes=axes, opset_version=RECIPE["opset"])
    options, notes = RECIPE["quantization"], _QuantizerNotes()
    logging.getLogger().addFilter(notes)
    try:
        quantize_dynamic(full, work / MODEL_FILE, weight_type=QuantType[options["weight_type"]],
                         per_channel=options["per_channel"], reduce_range=options["reduce_range"],
                         op_types_to_quantize=options["op_types"])
    finally:
        logging.getLogger().removeFilter(notes)
    full.unlink()
    model.tokenizer.backend_tokenizer.save(str(work / TOKENIZER_FILE))
    dimension = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") \
        else model.get_sentence_embedding_dimension()
    return {"max_seq_length": int(model.max_seq_length), "dimension": int(dimension), "inputs": list(INPUTS)}


def sentence_embedding_module(model):
    """The sentence-transformers model as a function of the tokenizer's tensors (what the tracer needs)."""
    import torch

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            features = {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
            found = self.model(features)
            return found[OUTPUT], found[TOKENS]

    return SentenceEmbedding()


class _QuantizerNotes(logging.Filter):
    """Drops the quantizer's notes, logged on the root logger: one line per tensor it leaves alone, and its
    advice to pre-process the graph first (an optional step this recipe leaves out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING and "pre-processing before quantization" not in record.getMessage()
