"""Passages of whole sentences (spaCy's, rag.analysis) whose offsets point exactly into the article body."""

from rag.chunking import chunk_article, sentence_spans
from rag.corpus import load_articles, make_article
from tests.conftest import ARTICLES


def chunks_of(analyzer, article, chunk_words, overlap_sentences):
    sentences = analyzer.articles([article.body], max_sentence_words=chunk_words)[0]
    return chunk_article(article, sentences, chunk_words, overlap_sentences)


def test_generated_text_splits_at_sentences_respecting_abbreviations():
    text = "Mr. J. Smith met U.S. officials on Jan. 5. They agreed. \"Good,\" he said. Prices rose 5 pct."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Mr. J. Smith met U.S. officials on Jan. 5.", "They agreed.", "\"Good,\" he said.", "Prices rose 5 pct."]


def test_every_passage_is_the_exact_article_text_at_its_offsets(analyzer):
    for article in load_articles(ARTICLES).articles:
        chunks = chunks_of(analyzer, article, 60, 1)
        assert chunks, article.id
        for chunk in chunks:
            assert article.body[chunk.start:chunk.end] == chunk.text
            assert all(chunk.start <= s.start < s.end <= chunk.end for s in chunk.sentences)
        assert chunks[0].start == 0 and chunks[-1].end == len(article.body.rstrip())
        # consecutive passages move forward and never skip text (only white space or a heading between them)
        for before, after in zip(chunks, chunks[1:]):
            assert after.start > before.start
            between = article.body[before.end:after.start].strip()
            assert between == "" or between == after.section


def test_passages_stay_near_the_target_length(analyzer):
    body = " ".join(f"Sentence number {i} has exactly seven words." for i in range(100))
    chunks = chunks_of(analyzer, make_article("x", "T", body), 50, 0)
    assert all(len(c.text.split()) <= 50 for c in chunks)
    assert sum(len(c.text.split()) for c in chunks) == 700  # no overlap: every word exactly once


def test_a_sentence_longer_than_a_passage_is_cut_at_word_boundaries(analyzer):
    body = " ".join(["word"] * 250) + "."
    chunks = chunks_of(analyzer, make_article("x", "T", body), 100, 0)
    assert [len(c.text.split()) for c in chunks] == [100, 100, 50]


def test_headings_start_a_section_and_are_never_part_of_a_sentence(analyzer):
    body = ("The talks began on Monday. Both sides were hopeful.\n\nFocus on Education and Culture\n\n"
            "A key aspect was education. Students will travel.\n\nOutlook\n\nMore talks are planned.")
    chunks = chunks_of(analyzer, make_article("x", "T", body), 120, 0)
    assert [(c.section, c.text) for c in chunks] == [
        ("", "The talks began on Monday. Both sides were hopeful."),
        ("Focus on Education and Culture", "A key aspect was education. Students will travel."),
        ("Outlook", "More talks are planned.")]
    sentences = [body[s.start:s.end] for c in chunks for s in c.sentences]
    assert not any("Focus on" in s or "Outlook" in s for s in sentences)
