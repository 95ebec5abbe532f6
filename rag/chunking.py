"""Passages of whole sentences that keep character offsets: body[start:end] is always the exact text.

sentence_spans is a plain splitter for short generated text (an LLM's answer); articles are split into
sentences by spaCy at ingest (rag.analysis).
"""

from __future__ import annotations

import re
from typing import Sequence

from rag.analysis import SentenceAnalysis
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


def chunk_article(article: Article, sentences: Sequence[SentenceAnalysis], chunk_words: int = 120,
                  overlap_sentences: int = 1) -> list[Chunk]:
    """Passages of about chunk_words words made of whole sentences (rag.analysis found them, and cut any
    longer than chunk_words). A passage stays inside one section: a heading starts a new passage, and names
    the section of the passages under it."""
    chunks: list[Chunk] = []
    for section in _sections(sentences):
        counts = [len(article.body[s.start:s.end].split()) for s in section]
        first = 0
        while first < len(section):
            last, words = first, counts[first]
            while last + 1 < len(section) and words + counts[last + 1] <= chunk_words:
                last += 1
                words += counts[last]
            start, end = section[first].start, section[last].end
            chunks.append(Chunk(article.id, len(chunks), article.body[start:end], start, end,
                                section[first].section, tuple(section[first:last + 1])))
            if last + 1 >= len(section):
                break
            first = max(last + 1 - overlap_sentences, first + 1)
    return chunks


def _sections(sentences: Sequence[SentenceAnalysis]) -> list[list[SentenceAnalysis]]:
    groups: list[list[SentenceAnalysis]] = []
    for sentence in sentences:
        if groups and groups[-1][-1].section == sentence.section:
            groups[-1].append(sentence)
        else:
            groups.append([sentence])
    return groups
