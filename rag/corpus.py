"""Read articles from files: .txt/.md (optional header lines) and .json/.jsonl ({id, title, body, ...}).

A file that cannot be read is reported by name with the reason; the others still load.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from rag.errors import CorpusNotFound
from rag.models import Article

TEXT_SUFFIXES = {".txt", ".md"}
JSON_SUFFIXES = {".json", ".jsonl"}
SUFFIXES = TEXT_SUFFIXES | JSON_SUFFIXES
DOCUMENTATION = {"readme", "license", "licence", "changelog"}  # notes beside the articles, not articles

# "date 2024-03-11", "date: 2024-03-11", or the date and the title on one line: "date 2024-03-11 Reviving …"
_DATE_HEADER = re.compile(r"^date\s*[:\s]\s*(\d{4}-\d{2}-\d{2})(?:\s+(\S.*?))?\s*$", re.IGNORECASE)
_NAMED_HEADER = re.compile(r"^(title|source|url|date)\s*:\s*(\S.*?)\s*$", re.IGNORECASE)
_TITLE_MAX = 200


@dataclass
class LoadResult:
    articles: list[Article] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file or file:line, reason)
    files: list[str] = field(default_factory=list)  # files that were read, resolved
    unclean: set[str] = field(default_factory=set)  # files with any record or part that was skipped


JSON_FILE_ARTICLES = 100  # a .json file (parsed whole) may be this many times max_article_bytes


class SkipFile(Exception):
    """A file or record that cannot be used; the message says why."""


_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})[- ]([A-Za-z]{3})[A-Za-z]*[- ,]+(\d{4})\b")
_MONTH_NUMBERS = {m: n for n, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}


def parse_date(value: object) -> str | None:
    """ISO date (YYYY-MM-DD) from the date part of an ISO date or datetime, a "31-MAR-1987 …" or "31 March
    1987" form, or an RFC 2822 date ("Tue, 31 Mar 1987 12:19:00 GMT"); None when empty."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    match = _DAY_MONTH_YEAR.match(text)
    try:
        if match and match.group(2).lower() in _MONTH_NUMBERS:
            day, month, year = int(match.group(1)), _MONTH_NUMBERS[match.group(2).lower()], int(match.group(3))
            return dt.date(year, month, day).isoformat()
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        raise SkipFile(f"unreadable date {text!r} (expected YYYY-MM-DD)") from None


def content_hash(title: str, body: str, date: str | None, source: str | None, url: str | None) -> str:
    payload = json.dumps([title, body, date, source, url], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def make_article(id: str, title: str | None, body: str, *, date=None, source=None, url=None,
                 origin: str = "") -> Article:
    body = _normalize(body)
    if not body.strip():
        raise SkipFile("the article has no body text")
    title = " ".join((title or "").split()) or title_from_body(body)
    date = parse_date(date)
    source = (str(source).strip() or None) if source is not None else None
    url = (str(url).strip() or None) if url is not None else None
    try:
        id.encode("utf-8")
        digest = content_hash(title, body, date, source, url)
    except UnicodeEncodeError:
        raise SkipFile("holds an unpaired surrogate (such as \\ud800), which is not text") from None
    return Article(id=id, title=title, body=body, date=date, source=source, url=url, origin=origin,
                   content_hash=digest)


_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[\"“A-Z])")
_CLAUSE_END = re.compile(r"[,;:–—]\s")


def title_from_body(body: str, limit: int = 120) -> str:
    """A title for an article that has none: its first sentence, or when that is long, the sentence up to its
    last clause break (a comma, semicolon, colon or dash) within the limit; a cut mid-clause ("…") only when
    the sentence has no such break."""
    first_line = " ".join(body.strip().split("\n", 1)[0].split())
    sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence.rstrip(".")
    breaks = [m.start() for m in _CLAUSE_END.finditer(sentence, 0, limit + 1) if m.start() >= limit // 3]
    if breaks:
        return sentence[:breaks[-1]]
    return sentence[:limit].rsplit(" ", 1)[0] + "…"


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip("\n")


def read_text(path: Path, max_bytes: int) -> str:
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file")
    if size > max_bytes:
        raise SkipFile(f"file is {size} bytes, over the {max_bytes}-byte limit (max_article_bytes)")
    raw = path.read_bytes()
    if b"\x00" in raw[:8192]:
        raise SkipFile("binary file (contains NUL bytes), not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SkipFile(f"not valid UTF-8 text (byte {exc.start}); convert it to UTF-8") from None
    if not text.strip():
        raise SkipFile("file holds only white space")
    return text


def article_from_text(text: str, article_id: str, origin: str, markdown: bool) -> Article:
    lines = _normalize(text).split("\n")
    headers, rest = _split_headers(lines)
    if "title" not in headers:
        title, rest = _title_line(rest, markdown, after_header=bool(headers))
        if title:
            headers["title"] = title
    body = "\n".join(rest).strip("\n")
    return make_article(article_id, headers.get("title"), body, date=headers.get("date"),
                        source=headers.get("source"), url=headers.get("url"), origin=origin)


def _split_headers(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        date = _DATE_HEADER.match(line)
        named = _NAMED_HEADER.match(line)
        if date and "date" not in headers:
            headers["date"] = date.group(1)
            if date.group(2) and "title" not in headers:
                headers["title"] = date.group(2)
        elif named and named.group(1).lower() not in headers:
            headers[named.group(1).lower()] = named.group(2)
        else:
            break
        index += 1
    return headers, lines[index:]


def _title_line(lines: list[str], markdown: bool, after_header: bool) -> tuple[str | None, list[str]]:
    """The first non-blank line is a title when it is a markdown heading or looks like a headline."""
    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines):
        return None, lines
    first = lines[index].strip()
    if markdown and first.startswith("#"):
        return first.lstrip("#").strip(), lines[index + 1:]
    next_blank = index + 1 >= len(lines) or not lines[index + 1].strip()
    headline = len(first) <= _TITLE_MAX and not first.endswith((".", "?", "!", ":", ",", ";"))
    if headline and (after_header or next_blank):
        return first, lines[index + 1:]
    return None, lines


def articles_from_json_file(text: str, stem: str, origin: str, max_bytes: int) -> Iterator[Article | SkipFile]:
    """Articles of a .json file (one object or a list of them); a bad record, or one over max_bytes (as
    UTF-8 JSON text), yields a SkipFile."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f": {exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else " (nested too deeply)"
        raise SkipFile(f"not valid JSON{where}") from None
    items = data if isinstance(data, list) else [data]
    for number, record in enumerate(items, start=1):
        size = len(json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        try:
            if size > max_bytes:
                raise SkipFile(f"{size} bytes, over the {max_bytes}-byte limit (max_article_bytes)")
            yield _article_from_record(record, f"{stem}#{number}", origin)
        except SkipFile as exc:
            yield SkipFile(f"record {number}: {exc}")


def articles_from_json_lines(path: Path, stem: str, max_bytes: int) -> Iterator[Article | SkipFile]:
    """The articles of a .jsonl file, read a line at a time (a collection may be far larger than memory
    should hold at once); a line over max_bytes, not UTF-8 or not JSON is a skipped record."""
    if path.stat().st_size == 0:
        raise SkipFile("empty file")
    with path.open("rb") as handle:
        if b"\x00" in handle.read(8192):
            raise SkipFile("binary file (contains NUL bytes), not text")
        handle.seek(0)
        any_text = False
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            any_text = True
            if len(raw) > max_bytes:
                yield SkipFile(f"record {number}: {len(raw)} bytes, over the {max_bytes}-byte limit (max_article_bytes)")
                continue
            try:
                record = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
            except UnicodeDecodeError as exc:
                yield SkipFile(f"record {number}: not valid UTF-8 text (byte {exc.start})")
                continue
            except json.JSONDecodeError as exc:
                yield SkipFile(f"record {number}: not valid JSON ({exc.msg})")
                continue
            try:
                yield _article_from_record(record, f"{stem}#{number}", str(path))
            except SkipFile as exc:
                yield SkipFile(f"record {number}: {exc}")
        if not any_text:
            raise SkipFile("file holds only white space")


def _article_from_record(record: object, fallback_id: str, origin: str) -> Article:
    if not isinstance(record, dict):
        raise SkipFile("expected a JSON object with at least a body")
    body = record.get("body", record.get("text"))
    if not isinstance(body, str):
        raise SkipFile("missing or non-text 'body'")
    raw_id = record.get("id")
    article_id = str(raw_id).strip() if raw_id not in (None, "") else fallback_id
    title = record.get("title")
    return make_article(article_id, title if isinstance(title, str) else None, body,
                        date=record.get("published_at", record.get("date")),
                        source=record.get("source"), url=record.get("url"), origin=origin)


def corpus_files(root: Path, result: LoadResult) -> list[Path]:
    """The files below root, hidden ones left out; folders that cannot be read and links that are not
    followed go to result.skipped (an unreadable folder to result.unclean too: its articles are kept)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise CorpusNotFound(f"corpus path not found: {root}")

    def unreadable(error: OSError) -> None:
        result.skipped.append((_relative(Path(error.filename), root), f"cannot read folder: {error.strerror}"))
        result.unclean.add(str(error.filename))

    files = []
    for folder, folders, names in os.walk(root, onerror=unreadable):  # links to folders are not entered
        folders[:] = [name for name in folders if not name.startswith(".")]
        for path in [Path(folder) / name for name in folders + names if not name.startswith(".")]:
            problem = _link_problem(path, root)
            if problem:
                result.skipped.append((_relative(path, root), problem))
            elif path.is_file():
                files.append(path)
    return sorted(files)


def _link_problem(path: Path, root: Path) -> str | None:
    """Why a symbolic link is not followed; None for a link to a file inside the corpus folder, or no link."""
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "broken symbolic link: its target does not exist"
    except (OSError, RuntimeError):
        return "symbolic link loop"
    if root not in target.parents:
        return "symbolic link to outside the corpus folder: not followed"
    if target.is_dir():
        return "symbolic link to a folder: not followed (its files are read where they are)"
    return None


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def load_articles(root: str | Path, max_bytes: int = 2_000_000) -> LoadResult:
    """Every readable article below root (a folder or one file), with a reason for each file skipped."""
    root = Path(root).expanduser().resolve()
    result = LoadResult()
    seen: dict[str, str] = {}
    for path in corpus_files(root, result):
        relative = path.name if root.is_file() else _relative(path, root)
        if path.stem.lower() in DOCUMENTATION:
            continue
        if path.suffix.lower() not in SUFFIXES:
            result.skipped.append((relative, f"unsupported file type {path.suffix or '(none)'}; "
                                             "use .txt, .md, .json or .jsonl"))
            continue
        result.files.append(str(path))
        for item in _articles_of_file(path, relative, max_bytes):
            if not _collect(item, relative, result, seen):
                result.unclean.add(str(path))
    return result


def _articles_of_file(path: Path, relative: str, max_bytes: int) -> Iterator[Article | SkipFile]:
    """max_bytes bounds one article: a .txt/.md file, a .jsonl line, a .json record; a .json file may hold
    JSON_FILE_ARTICLES times as much (it is parsed whole)."""
    stem = relative.rsplit(".", 1)[0]
    suffix = path.suffix.lower()
    try:
        if suffix in TEXT_SUFFIXES:
            yield article_from_text(read_text(path, max_bytes), stem, str(path), markdown=suffix == ".md")
        elif suffix == ".jsonl":
            yield from articles_from_json_lines(path, stem, max_bytes)
        else:
            yield from articles_from_json_file(read_text(path, max_bytes * JSON_FILE_ARTICLES), stem, str(path),
                                               max_bytes)
    except SkipFile as exc:
        yield exc
    except OSError as exc:
        yield SkipFile(f"cannot read: {exc.strerror or exc}")


def _collect(item: Article | SkipFile, relative: str, result: LoadResult, seen: dict[str, str]) -> bool:
    """Add an article or a skip reason; False when something was skipped."""
    if isinstance(item, SkipFile):
        result.skipped.append((relative, str(item)))
        return False
    if item.id in seen:
        result.skipped.append((relative, f"article id {item.id!r} already used by {seen[item.id]}"))
        return False
    seen[item.id] = relative
    result.articles.append(item)
    return True


MAX_ID_CHARS = 500
API_ORIGIN = "api"  # the origin of an article sent without one: no folder ingestion ever removes it


def articles_from_records(data: Any, max_bytes: int) -> LoadResult:
    """Articles sent as JSON: one record or a list of them, in the shape of a .json file's, each with an id;
    a record that cannot be used is skipped as "record N" with the reason. A record may name its origin (the
    file `newsrag ingest` read it from), else it is API_ORIGIN."""
    result, seen = LoadResult(), {}
    for number, record in enumerate(data if isinstance(data, list) else [data], start=1):
        try:
            item: Article | SkipFile = _sent_article(record, max_bytes)
        except SkipFile as exc:
            item = exc
        _collect(item, f"record {number}", result, seen)
    return result


def _sent_article(record: Any, max_bytes: int) -> Article:
    if not isinstance(record, dict):
        raise SkipFile("expected a JSON object with at least an id and a body")
    raw_id = record.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        raise SkipFile("missing 'id' (a string or a number)")
    if len(str(raw_id).strip()) > MAX_ID_CHARS:
        raise SkipFile(f"'id' is over {MAX_ID_CHARS} characters")
    for name in ("body", "title", "published_at", "source", "url", "origin"):
        if record.get(name) is not None and not isinstance(record[name], str):
            raise SkipFile(f"'{name}' must be text")
    size = len(json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise SkipFile(f"{size} bytes, over the {max_bytes}-byte limit (max_article_bytes)")
    origin = record.get("origin")
    return _article_from_record(record, "", origin if isinstance(origin, str) and origin else API_ORIGIN)
