"""Sentence-aware passages whose offsets point exactly into the article body."""

from rag.chunking import chunk_article, sentence_spans
from rag.corpus import load_articles, make_article
from tests.conftest import ARTICLES


def test_sentences_respect_abbreviations_and_initials():
    text = "Mr. J. Smith met U.S. officials on Jan. 5. They agreed. \"Good,\" he said. Prices rose 5 pct."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Mr. J. Smith met U.S. officials on Jan. 5.", "They agreed.", "\"Good,\" he said.", "Prices rose 5 pct."]


def test_blank_line_ends_a_sentence_and_wrapped_lines_do_not():
    text = "A wrapped\nsentence goes on. Next one\n\nHeadline without stop\n\nLast."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "A wrapped\nsentence goes on.", "Next one", "Headline without stop", "Last."]


def test_every_passage_is_the_exact_article_text_at_its_offsets():
    for article in load_articles(ARTICLES).articles:
        chunks = chunk_article(article, chunk_words=60, overlap_sentences=1)
        assert chunks, article.id
        for chunk in chunks:
            assert article.body[chunk.start:chunk.end] == chunk.text
        assert chunks[0].start == 0 and chunks[-1].end == len(article.body.rstrip())
        # consecutive passages move forward and never skip text (only white space between them)
        for before, after in zip(chunks, chunks[1:]):
            assert after.start > before.start
            assert article.body[before.end:after.start].strip() == ""


def test_passages_stay_near_the_target_length():
    body = " ".join(f"Sentence number {i} has exactly seven words." for i in range(100))
    chunks = chunk_article(make_article("x", "T", body), chunk_words=50, overlap_sentences=0)
    assert all(len(c.text.split()) <= 50 for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 700  # no overlap: every word exactly once


def test_a_sentence_longer_than_a_passage_is_cut_at_word_boundaries():
    body = " ".join(["word"] * 250) + "."
    chunks = chunk_article(make_article("x", "T", body), chunk_words=100, overlap_sentences=0)
    assert [len(c.text.split()) for c in chunks] == [100, 100, 50]
