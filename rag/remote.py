"""`newsrag ingest` while `newsrag serve` owns the store: read the files here, send the articles to the server
(POST /api/articles, in batches), and total its reports."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

from rag.config import Settings
from rag.corpus import load_articles
from rag.errors import RagError, StoreOwned
from rag.ingest import unique_articles
from rag.models import Article, IngestReport
from rag.owner import Owner

BATCH_ARTICLES = 64  # about what the server embeds in a few seconds
TIMEOUT_SECONDS = 600.0
COUNTS = ("added", "updated", "removed", "unchanged", "passages_written")


def ingest_through_server(owner: Owner, paths: Sequence[str | Path], settings: Settings) -> dict:
    """The totalled report (IngestReport.to_dict's shape) of sending the articles of these paths."""
    if not owner.url:
        raise StoreOwned(f"the store in {settings.data_dir} belongs to {owner.describe()}; run this again once "
                         "it serves, and the articles go to it")
    started = time.perf_counter()
    report = IngestReport()
    loads = [load_articles(path, settings.max_article_bytes) for path in paths]
    report.skipped = [skip for load in loads for skip in load.skipped]
    totals = report.to_dict()
    api_key = min(settings.api_key_set, default=None)
    for batch in batches(unique_articles(loads, report), settings.max_articles_body_bytes):
        _add(totals, post_articles(owner, batch, api_key), batch)
    totals["skipped"] = [{"file": f, "reason": r} for f, r in report.skipped] + totals["skipped"]
    totals["seconds"] = round(time.perf_counter() - started, 2)
    return totals


def record_of(article: Article) -> dict:
    return {"id": article.id, "title": article.title, "body": article.body, "published_at": article.date,
            "source": article.source, "url": article.url, "origin": article.origin}


def batches(articles: Sequence[Article], max_bytes: int) -> Iterator[list[dict]]:
    """Records of up to BATCH_ARTICLES articles and (but for a single larger article) max_bytes of JSON."""
    batch, size = [], 2
    for record in map(record_of, articles):
        length = len(json.dumps(record, ensure_ascii=False).encode("utf-8")) + 1
        if batch and (len(batch) == BATCH_ARTICLES or size + length > max_bytes):
            yield batch
            batch, size = [], 2
        batch.append(record)
        size += length
    if batch:
        yield batch


def post_articles(owner: Owner, records: list[dict], api_key: str | None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
    request = urllib.request.Request(f"{owner.url.rstrip('/')}/api/articles", method="POST", headers=headers,
                                     data=json.dumps(records, ensure_ascii=False).encode("utf-8"))
    while True:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code != 429:
                raise RagError(f"{owner.describe()} owns the store and refused the articles: "
                               f"{exc.code} {_message(exc)}") from None
            time.sleep(float(exc.headers.get("Retry-After") or 1))
        except OSError as exc:
            raise StoreOwned(f"the store belongs to {owner.describe()}, which does not answer ({exc}); send the "
                             "articles there, or stop it and ingest again") from None


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError, OSError):
        return exc.reason


def _add(totals: dict, sent: dict, batch: list[dict]) -> None:
    for name in COUNTS:
        totals[name] += sent.get(name, 0)
    for skip in sent.get("skipped", []):  # "record N" of this batch: name the article instead
        number = re.fullmatch(r"record (\d+)", skip["file"])
        record = batch[int(number.group(1)) - 1] if number and int(number.group(1)) <= len(batch) else None
        totals["skipped"].append({**skip, "file": f"{record['origin']} ({record['id']})"} if record else skip)
