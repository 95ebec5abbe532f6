"""Logging for the entry points (the CLI, the WSGI app): one format, the chatty libraries turned down."""

from __future__ import annotations

import logging


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("bm25s", "sentence_transformers", "chromadb", "httpx", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # waitress warns at every queued request ("Task queue depth is N"): normal under load, noise in the log
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
