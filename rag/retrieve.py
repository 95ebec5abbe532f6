"""Question -> ranked passages: dense similarity (over the passages' vectors held in memory, or Chroma's search)
and BM25 keyword scores, fused by weighted reciprocal rank, with filters by date range and source applied to both."""

from __future__ import annotations

import calendar
import collections
import copy
import datetime as dt
import json
import logging
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from rag.analysis import english_word
from rag.embedding import Embedder
from rag.models import Filters, Passage
from rag.store import Store, date_number

log = logging.getLogger(__name__)

PASSAGES_FILE = "passages.json"
VECTORS_FILE = "vectors.npy"
COMPLETE_FILE = "complete"


def _import_bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on itself when imported
    return bm25s


def build_tokenizer():
    import Stemmer

    bm25s = _import_bm25s()

    return bm25s.tokenization.Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"))


class KeywordIndex:
    """BM25 over every passage (title + text), with per-passage arrays for filtering in memory; and the
    passages' vectors, for an exact dense search in memory (numpy lets other threads run meanwhile, Chroma's
    query holds the interpreter's lock)."""

    def __init__(self, passages: list[Passage], tokenizer=None, bm25=None, vectors: np.ndarray | None = None):
        """Index these passages (vectors: theirs, row for row, or None); or, given a tokenizer and bm25 loaded
        from disk, wrap them as they are."""
        bm25s = _import_bm25s()
        self.passages = passages
        self.tokenizer = tokenizer or build_tokenizer()
        self.dates = np.array([date_number(p.date) for p in passages], dtype=np.int64)
        self.sources = np.array([p.source or "" for p in passages], dtype=object)
        self.vectors = None if vectors is None or len(vectors) != len(passages) else _unit_rows(vectors)
        self.bm25 = bm25
        self._known_sources: list[str] | None = None
        self._source_words: collections.Counter | None = None  # each word of the sources: how many passages
        if passages and bm25 is None:
            texts = [f"{p.title}\n{p.section or ''}\n{p.text}" for p in passages]
            ids = self.tokenizer.tokenize(texts, return_as="ids", show_progress=False)
            self.bm25 = bm25s.BM25()
            self.bm25.index(ids, show_progress=False)

    def save(self, folder: Path) -> None:
        """The BM25 matrices, the tokenizer vocabulary and the passage catalogue, as files in folder."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.bm25 is not None:  # indexed from token ids: its vocabulary has int keys, JSON needs str
            saved = copy.copy(self.bm25)
            saved.vocab_dict = {str(k): v for k, v in self.bm25.vocab_dict.items()}
            saved.save(str(folder / "bm25"), show_progress=False)
        self.tokenizer.save_vocab(str(folder))
        names = [f.name for f in fields(Passage)]
        rows = [[getattr(p, name) for name in names] for p in self.passages]
        (folder / PASSAGES_FILE).write_text(json.dumps({"fields": names, "rows": rows}, ensure_ascii=False))
        if self.vectors is not None:
            np.save(folder / VECTORS_FILE, self.vectors)

    @classmethod
    def load(cls, folder: Path, with_vectors: bool = True) -> "KeywordIndex":
        """An index saved by save(); raises (OSError, ValueError, KeyError, TypeError) when it is not whole."""
        catalogue = json.loads((folder / PASSAGES_FILE).read_text())
        passages = [Passage(**dict(zip(catalogue["fields"], row))) for row in catalogue["rows"]]
        tokenizer = build_tokenizer()
        tokenizer.load_vocab(str(folder))
        bm25 = None
        if passages:
            bm25 = _import_bm25s().BM25.load(str(folder / "bm25"), show_progress=False)
            bm25.vocab_dict = {int(k): v for k, v in bm25.vocab_dict.items()}
        vectors = np.load(folder / VECTORS_FILE) if passages and with_vectors else None  # none saved: rebuilt
        return cls(passages, tokenizer=tokenizer, bm25=bm25, vectors=vectors)

    def search(self, question: str, k: int, filters: Filters | None) -> list[Passage]:
        if self.bm25 is None:
            return []
        query = self.tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
        tokens = [t for t in query[0] if t != 0] if query else []
        if not tokens:
            return []
        scores = self.bm25.get_scores(tokens)
        scores = np.where(self._mask(filters), scores, 0.0)
        return [replace(self.passages[i], score=float(scores[i])) for i in top_indices(scores, k) if scores[i] > 0]

    def respelled(self, question: str) -> tuple[str, list[tuple[str, str]]]:
        """The question with each word of five letters or more that no passage holds spelled as the word a
        letter away (one inserted, deleted, changed, or two swapped) that the passages hold, the one in most
        passages when several are: "the Habrour Ledger" -> "the Harbour Ledger", "Vitcoria" -> "Victoria". The
        search's "did you mean", for the dense and keyword searches and the sources the question names; an
        English word ("place", never "peace") and a word with no such neighbour stay as they are. Returns the
        question and each word respelled, as written and as spelled now."""
        if self.bm25 is None:
            return question, []
        known = self.tokenizer.word_to_stem
        if self._source_words is None:  # a source's name is no word of the passages' text: "Pitchside Daily"
            self._source_words = collections.Counter()
            for source, passages in collections.Counter(self.sources.tolist()).items():
                self._source_words.update({w: passages for w in set(re.findall(r"[a-z]+", source.lower()))})
        changes: list[tuple[str, str]] = []

        def closest(m: re.Match) -> str:
            word = m.group()
            lower = word.lower()
            if (lower in known or lower in self._source_words or lower in STOP_WORDS
                    or lower in self.tokenizer.stopwords or english_word(lower)):
                return word  # "place" is no misspelling of "peace", whatever the corpus holds
            found: dict[str, tuple[str, int]] = {}
            for variant in _one_letter_away(lower):
                if variant in STOP_WORDS:
                    continue
                if variant in known:
                    found.setdefault(known[variant], (variant, self._passages_holding(known[variant])))
                elif variant in self._source_words:
                    found.setdefault(variant, (variant, self._source_words[variant]))
            if not found:
                return word
            best = max(found.values(), key=lambda spelled: spelled[1])[0]
            best = best.upper() if word.isupper() else best.capitalize() if word[0].isupper() else best
            changes.append((word, best))
            return best

        return _SPELLED_WORD.sub(closest, question), changes

    def _passages_holding(self, stem: str) -> int:
        column = self.bm25.vocab_dict.get(self.tokenizer.stem_to_sid.get(stem, -1))
        if column is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def dense_search(self, vector: np.ndarray, k: int, filters: Filters | None) -> list[Passage]:
        """The k passages nearest in cosine that pass the filters, exactly (every passage is compared)."""
        if not self.passages:
            return []
        scores = self.vectors @ (vector / (np.linalg.norm(vector) or 1.0)).astype(np.float32)
        if filters is not None and not filters.is_empty():
            scores = np.where(self._mask(filters), scores, -np.inf)
        return [replace(self.passages[i], score=float(scores[i])) for i in top_indices(scores, k)
                if np.isfinite(scores[i])]

    def implied_filters(self, question: str) -> Filters | None:
        """The sources the question names and the day or month it names, as filters; None when it names
        neither, or no stored article is of that source or dated then."""
        if self._known_sources is None:
            self._known_sources = sorted({s for s in self.sources.tolist() if s and len(s) >= 3}, key=len)
        lowered = question.lower()
        sources = tuple(s for s in self._known_sources
                        if re.search(rf"(?<!\w){re.escape(s.lower())}(?!\w)", lowered))
        date_from, date_to = dates_named(question)
        if date_from and not np.any((self.dates >= date_number(date_from)) & (self.dates <= date_number(date_to))):
            date_from = date_to = None
        implied = Filters(date_from, date_to, sources)
        return None if implied.is_empty() else implied

    def _mask(self, filters: Filters | None) -> np.ndarray:
        mask = np.ones(len(self.passages), dtype=bool)
        if filters is None or filters.is_empty():
            return mask
        if filters.date_from or filters.date_to:
            mask &= self.dates > 0
        if filters.date_from:
            mask &= self.dates >= date_number(filters.date_from)
        if filters.date_to:
            mask &= self.dates <= date_number(filters.date_to)
        if filters.sources:
            mask &= np.isin(self.sources, list(filters.sources))
        return mask


@dataclass
class Retrieval:
    passages: list[Passage]
    dense: list[Passage]
    keyword: list[Passage]
    timings_ms: dict[str, float]
    implied: Filters | None = None  # filters read from the question itself, when they were applied
    question: str | None = None  # the question as searched: respelled where it misspelled words
    respelled: tuple[tuple[str, str], ...] = ()  # each misspelled word and how the passages spell it


class HybridRetriever:
    def __init__(self, store: Store, embedder: Embedder, *, candidates: int = 40, rrf_k: int = 60,
                 keyword_weight: float = 1.0, refresh_seconds: float = 2.0, cache_dir: Path | None = None,
                 dense_in_memory: bool = True):
        """cache_dir: where the keyword index is kept on disk, one folder per store generation (None: never).
        dense_in_memory: the index also holds the passages' vectors, and dense search runs over them."""
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.keyword_weight = keyword_weight
        self.refresh_seconds = refresh_seconds
        self.cache_dir = cache_dir
        self.dense_in_memory = dense_in_memory
        # the keyword index and the store's write count when it was made current (-1: check its hits)
        self._keyword: tuple[KeywordIndex, int] | None = None
        self._generation: str | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def keyword_index(self, force: bool = False) -> KeywordIndex:
        """The BM25 index, replaced when an ingestion (in any process) changed the store's generation (which
        also opens an embedded store again when another process changed it)."""
        return self._current_keyword(force)[0]

    def _current_keyword(self, force: bool = False) -> tuple[KeywordIndex, int]:
        """The keyword index and the store's write count it holds every passage of, read together (another
        thread may replace both between two separate reads)."""
        current = self._keyword
        if not force and current is not None and time.monotonic() - self._checked < self.refresh_seconds:
            return current
        with self._lock:
            writes, generation = self.store.writes, self.store.refresh()
            self._checked = time.monotonic()
            if self._keyword is None or generation != self._generation:
                index, whole = self._load_or_build(generation, writes)
                # an index saved for this generation lacks the writes made since it was set: until the next
                # generation, its hits are checked against the store (as after any write it has not seen)
                self._keyword, self._generation = (index, writes if whole else -1), generation
            return self._keyword

    def _load_or_build(self, generation: str, writes: int) -> tuple[KeywordIndex, bool]:
        """The index of this generation, and whether it holds every passage written up to `writes`."""
        started = time.perf_counter()
        current = self.store.generation_writes == (generation, writes)  # no write since the generation was set
        folder = self.cache_dir / generation if self.cache_dir and generation else None
        if folder is not None and (folder / COMPLETE_FILE).exists():
            try:
                index = KeywordIndex.load(folder, self.dense_in_memory)
                log.info("keyword index: %d passages loaded from %s in %.2fs", len(index.passages), folder,
                         time.perf_counter() - started)
                return index, current
            except (OSError, ValueError, KeyError, TypeError) as exc:  # damaged, or saved by an older version
                if isinstance(exc, FileNotFoundError):  # an older version's has no vectors.npy: expected once
                    log.info("keyword index in %s lacks %s; rebuilding it", folder, Path(exc.filename or "?").name)
                else:
                    log.warning("keyword index in %s is unreadable (%s); rebuilding it", folder, exc)
                shutil.rmtree(folder, ignore_errors=True)  # so that the rebuilt one can take its place
        passages, vectors = self.store.passages_with_vectors() if self.dense_in_memory else \
            (list(self.store.all_passages()), None)
        index = KeywordIndex(passages, vectors=vectors)
        log.info("keyword index: %d passages indexed in %.2fs", len(index.passages), time.perf_counter() - started)
        if folder is not None and self.store.generation_writes == (generation, writes) \
                and self.store.generation() == generation:  # exactly this generation's passages: no write meanwhile
            self._save(index, folder)
        return index, True

    def _save(self, index: KeywordIndex, folder: Path) -> None:
        """Write to a temporary folder, then rename: readers see a whole index or none; older ones go."""
        staging = None
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
            index.save(staging)
            (staging / COMPLETE_FILE).write_text("")
            staging.rename(folder)  # fails when another process saved this generation first: fine
        except Exception as exc:  # saving is an optimization: serving goes on with the index in memory
            if not folder.exists():
                log.warning("cannot save the keyword index under %s (%s); it stays in memory only",
                            folder.parent, exc)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            return
        _remove_other_generations(folder)

    def retrieve(self, question: str, top_k: int, filters: Filters | None = None) -> Retrieval:
        """The top_k passages for the question. Without filters of its own, a question that names a source
        the store knows ("according to Reuters") or a date ("in March 2024", "on 2024-03-11") of which some
        article is dated is searched within them first; when nothing there matches, everywhere."""
        question, respelled = self.keyword_index().respelled(question)
        implied = None if filters is not None and not filters.is_empty() else \
            self.keyword_index().implied_filters(question)
        found = self._retrieve(question, top_k, implied) if implied is not None else None
        if found is not None and found.passages:
            found.implied = implied
        else:
            found = self._retrieve(question, top_k, filters)
        found.question, found.respelled = question, tuple(respelled)
        return found

    def _retrieve(self, question: str, top_k: int, filters: Filters | None) -> Retrieval:
        timings: dict[str, float] = {}
        writes = self.store.writes
        index, writes_seen = self._current_keyword()
        started = time.perf_counter()
        vector = self.embedder.embed_query(question)
        timings["embed"] = _ms_since(started)
        started = time.perf_counter()
        if writes == writes_seen and index.vectors is not None:  # in memory, and it holds every stored passage
            dense = index.dense_search(vector, self.candidates, filters)
        else:  # written since it was made: the store itself
            dense = self.store.dense_search(vector, self.candidates, filters)
        timings["dense"] = _ms_since(started)
        started = time.perf_counter()
        keyword = index.search(question, self.candidates, filters)
        if self.store.writes != writes:  # written meanwhile: the dense hits may be of the version it replaced
            stored = {p.passage_id for p in self.store.still_stored(dense + keyword)}
            dense = [p for p in dense if p.passage_id in stored]
            keyword = [p for p in keyword if p.passage_id in stored]
        elif writes != writes_seen:  # written since the keyword index was made: no passage of an old version
            keyword = self.store.still_stored(keyword)
        timings["keyword"] = _ms_since(started)
        started = time.perf_counter()
        fused = fuse(dense, keyword, self.rrf_k, self.keyword_weight)[:top_k]
        timings["fusion"] = _ms_since(started)
        return Retrieval(fused, dense, keyword, timings)


_SPELLED_WORD = re.compile(r"(?<![\w'’])[A-Za-z]{5,}(?!\w)")  # "Ingersoll" of "Ingersoll-Rand's" too
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _one_letter_away(word: str) -> set[str]:
    """Every word one letter inserted, deleted or changed, or two neighbours swapped, away from word."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deleted = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    return deleted | swapped | changed | {a + c + b for a, b in splits for c in _LETTERS}


_MONTH_DATE = re.compile(r"\b(?:(\d{1,2})\s+)?([A-Z][a-z]{2,8})\.?\s+(?:(\d{1,2}),?\s+)?((?:19|20)\d\d)\b")
_ISO_DATE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")


def dates_named(question: str) -> tuple[str | None, str | None]:
    """The first day ("2024-03-11", "11 March 2024", "March 11, 2024") or month ("March 2024") the question
    names, as a date range; (None, None) when it names none (a year alone is too often the story's, not the
    article's)."""
    iso = _ISO_DATE.search(question)
    if iso:
        try:
            day = dt.date(*map(int, iso.groups())).isoformat()
            return day, day
        except ValueError:
            pass
    for match in _MONTH_DATE.finditer(question):
        day_before, month_name, day_after, year = match.groups()
        month = _MONTHS.get(month_name.lower()[:3])
        if month is None or month_name.lower() not in _MONTH_NAMES:
            continue
        day = day_before or day_after
        try:
            if day:
                named = dt.date(int(year), month, int(day)).isoformat()
                return named, named
            last = calendar.monthrange(int(year), month)[1]
            return dt.date(int(year), month, 1).isoformat(), dt.date(int(year), month, last).isoformat()
        except ValueError:
            continue
    return None, None


_MONTHS = {m: n for n, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_MONTH_NAMES = set(calendar.month_name[1:]) | set(calendar.month_abbr[1:]) | {"Sept"}
_MONTH_NAMES = {m.lower() for m in _MONTH_NAMES if m}


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of the k highest scores, highest first, ties in index order (as a stable sort of all of
    them would give), without sorting all of them."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, len(scores) - k)[len(scores) - k]
    chosen = np.flatnonzero(scores >= threshold)  # the k best and any ties with the k-th
    return chosen[np.argsort(-scores[chosen], kind="stable")][:k]


def fuse(dense: list[Passage], keyword: list[Passage], rrf_k: int, keyword_weight: float) -> list[Passage]:
    """Weighted reciprocal-rank fusion; ties keep the dense order."""
    scores: dict[str, float] = {}
    by_id: dict[str, Passage] = {}
    for weight, ranking in ((1.0, dense), (keyword_weight, keyword)):
        for rank, passage in enumerate(ranking, start=1):
            scores[passage.passage_id] = scores.get(passage.passage_id, 0.0) + weight / (rrf_k + rank)
            by_id.setdefault(passage.passage_id, passage)
    ordered = sorted(scores, key=lambda pid: -scores[pid])
    return [replace(by_id[pid], score=round(scores[pid], 6), rank=rank)
            for rank, pid in enumerate(ordered, start=1)]


def _remove_other_generations(keep: Path, staging_age_seconds: float = 3600) -> None:
    for other in keep.parent.iterdir():
        try:
            staging = other.name.startswith(".staging-")
            if other != keep and (not staging or time.time() - other.stat().st_mtime > staging_age_seconds):
                shutil.rmtree(other, ignore_errors=True)
        except OSError:  # removed by another process meanwhile
            continue


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
