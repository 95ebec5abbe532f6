"""Sentence-aware splitting that keeps character offsets: body[start:end] is always the exact text."""

from __future__ import annotations

import re

from rag.models import Article, Chunk

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gen", "col", "lt", "capt", "sgt", "st", "gov", "pres",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "inc", "corp", "co", "ltd", "bros", "vs", "no", "nos", "approx", "est", "dept", "univ", "jr", "sr",
    "u.s", "u.k", "u.n", "e.g", "i.e", "etc", "a.m", "p.m", "vol", "fig",
}
# A sentence ends at . ! or ? (with closing quotes/brackets) followed by space and a capital, digit or
# opening quote; a blank line always ends one.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n[ \t]*\n")
_WORD = re.compile(r"\S+")


def _ends_with_abbreviation(text: str, end: int) -> bool:
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = text[start:end].rstrip(".!?\"'”’)]").lower().lstrip("(\"'“‘[")
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text, shifted by offset, without surrounding white space."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if match.group().startswith(tuple(".!?")) and _ends_with_abbreviation(text, match.start()):
            continue
        _append_span(text, start, match.end(), spans)
        start = match.end()
    _append_span(text, start, len(text), spans)
    return [(s + offset, e + offset) for s, e in spans]


def _append_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _bounded_spans(body: str, max_words: int) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than max_words cut at word boundaries."""
    spans = []
    for start, end in sentence_spans(body):
        words = list(_WORD.finditer(body, start, end))
        if len(words) <= max_words:
            spans.append((start, end))
            continue
        for i in range(0, len(words), max_words):
            piece = words[i:i + max_words]
            spans.append((piece[0].start(), piece[-1].end()))
    return spans


def chunk_article(article: Article, chunk_words: int = 120, overlap_sentences: int = 1) -> list[Chunk]:
    """Passages of about chunk_words words that start and end on sentence boundaries."""
    spans = _bounded_spans(article.body, max(chunk_words, 1))
    counts = [_word_count(article.body[s:e]) for s, e in spans]
    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last, words = first, counts[first]
        while last + 1 < len(spans) and words + counts[last + 1] <= chunk_words:
            last += 1
            words += counts[last]
        start, end = spans[first][0], spans[last][1]
        chunks.append(Chunk(article.id, len(chunks), article.body[start:end], start, end))
        if last + 1 >= len(spans):
            break
        first = max(last + 1 - overlap_sentences, first + 1)
    return chunks
