"""Commands while `newsrag serve` owns the store (rag/owner.py) go through that server.

`newsrag ingest` reads the files here, sends the articles (POST /api/articles, in batches) and totals the
reports; then it lists the stored articles under the given paths (GET /api/articles) and has the server remove
those the same rule as a local ingestion removes (rag.ingest.articles_to_prune; POST /api/articles/delete).
`newsrag ask` sends its question (POST /api/ask) and gets the answer the local service would give."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator, Sequence

from rag.config import Settings
from rag.corpus import load_articles
from rag.errors import RagError, StoreOwned
from rag.ingest import articles_to_prune, unique_articles
from rag.models import Article, IngestReport
from rag.owner import Owner

BATCH_ARTICLES = 64  # about what the server embeds in a few seconds
REMOVE_BATCH = 500  # article ids removed a request
TIMEOUT_SECONDS = 600.0
COUNTS = ("added", "updated", "removed", "unchanged", "passages_written")


def ingest_through_server(owner: Owner, paths: Sequence[str | Path], settings: Settings,
                          prune: bool = True) -> dict:
    """The totalled report (IngestReport.to_dict's shape) of sending the articles of these paths, and with
    prune, of removing the stored articles gone from them."""
    if not owner.url:
        raise StoreOwned(f"the store in {settings.data_dir} belongs to {owner.describe()}; run this again once "
                         "it serves, and the articles go to it")
    started = time.perf_counter()
    report = IngestReport()
    loads = [load_articles(path, settings.max_article_bytes) for path in paths]
    report.skipped = [skip for load in loads for skip in load.skipped]
    totals = IngestReport().to_dict()  # what the server reports; this process's skips go first at the end
    api_key = min(settings.api_key_set, default=None)
    articles = unique_articles(loads, report)
    for batch in batches(articles, settings.max_articles_body_bytes):
        _add(totals, post_articles(owner, batch, api_key), batch)
    if prune:
        totals["removed"] += prune_through_server(owner, paths, loads, {a.id for a in articles}, api_key)
    totals["skipped"] = [{"file": f, "reason": r} for f, r in report.skipped] + totals["skipped"]
    totals["seconds"] = round(time.perf_counter() - started, 2)
    return totals


def prune_through_server(owner: Owner, paths: Sequence[str | Path], loads, present: set[str],
                         api_key: str | None) -> int:
    """Have the server remove what a local ingestion of these paths would remove; how many it removed."""
    roots = [str(Path(path).expanduser().resolve()) for path in paths]
    doomed = articles_to_prune(stored_origins(owner, roots, api_key), paths, loads, present)
    removed = 0
    for first in range(0, len(doomed), REMOVE_BATCH):
        ids = doomed[first:first + REMOVE_BATCH]
        removed += call_server(owner, "POST", "/api/articles/delete", api_key, {"ids": ids},
                               "the removal of articles gone from the files")["removed"]
    return removed


def stored_origins(owner: Owner, roots: Sequence[str], api_key: str | None) -> dict[str, str]:
    """id -> origin of the stored articles whose origin lies under one of these absolute paths."""
    origins: dict[str, str] = {}
    after = None
    while True:
        query = urllib.parse.urlencode([("under", root) for root in roots] + ([("after", after)] if after else []))
        page = call_server(owner, "GET", f"/api/articles?{query}", api_key, what="the list of stored articles")
        origins.update((article["id"], article["origin"]) for article in page["articles"])
        after = page["next"]
        if after is None:
            return origins


def ask_through_server(owner: Owner, question: str, filters: dict, top_k: int | None,
                       settings: Settings) -> dict:
    """The answer (Answer.to_dict's shape) of the server that owns the store."""
    if not owner.url:
        raise StoreOwned(f"the store in {settings.data_dir} belongs to {owner.describe()}; ask again once it "
                         "serves")
    body = {"question": question, "filters": filters, "stream": False}
    if top_k is not None:
        body["top_k"] = top_k
    return call_server(owner, "POST", "/api/ask", min(settings.api_key_set, default=None), body, "the question",
                       advice="ask again once it answers, or stop it")


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
    return call_server(owner, "POST", "/api/articles", api_key, records, "the articles")


def call_server(owner: Owner, method: str, path: str, api_key: str | None, body=None, what: str = "the request",
                advice: str = "send the articles there, or stop it and ingest again") -> dict:
    """The JSON answer of the owner to one request, waiting out its rate limit (429); RagError when it refuses,
    StoreOwned when it does not answer."""
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(f"{owner.url.rstrip('/')}{path}", method=method, headers=headers, data=data)
    while True:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code != 429:
                raise RagError(f"{owner.describe()} owns the store and refused {what}: "
                               f"{exc.code} {_message(exc)}") from None
            time.sleep(float(exc.headers.get("Retry-After") or 1))
        except OSError as exc:
            raise StoreOwned(f"the store belongs to {owner.describe()}, which does not answer ({exc}); "
                             f"{advice}") from None


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
