"""Passages -> an extractive Answer: a short answer span first, then the sentences that support it, each
carrying [n] markers. No LLM, and no parsing or embedding of passages at question time: every sentence's
analysis (rag.analysis) and embedding were stored at ingest; only the question is analyzed here.

1. The question is typed by its question word: who -> a person, organization or nationality; where -> a
   place; when -> a date or time, not a span of time (the article's own date for "when was it published?",
   and the report's date for what was done when no sentence dates it); how many/much -> a number, amount,
   money or percentage, preferably one of what it counts ("12 days"); which/what X -> an entity of X's kind, or
   a noun chunk headed by X, or the name set beside such a chunk, or what the text says that chunk is; a
   question asking for a name -> also what follows "called", "named", "known as"…, and only a name; why -> the
   clause after "because", "due to", "in order to"…, or a purpose said by "to" and a verb
2. Each sentence of the retrieved passages is scored by the meaning of the question (embedding similarity)
   and by the question's words it holds (lemmas, weighted by how rare they are among the candidates).
3. Short-answer candidates are the spans of the asked type in the best sentences that the question does not
   already contain, scored by their sentence, their closeness to the question's words in it, and how many
   passages name them (two articles naming the same person is evidence).
4. The corpus is said not to hold the answer when the evidence does not cover what is asked: a name the
   question uses is in no retrieved article, too few of its other words are in the best evidence, or, for a
   typed question, no span of the asked type stands near them. None of these shrink with question length. A
   place the text sets right after the question's words ("the meeting in Ulaanbaatar") answers from a sentence
   less relevant than others must be: such sentences say the question in other words.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator, Iterator, Sequence

import numpy as np
import Stemmer
from spacy.lang.en.stop_words import STOP_WORDS

from rag.analysis import (AMOUNTS, PARTICLES, PEOPLE, PLACES, PURPOSE_NOUNS, TIMES, Analyzer, QuestionAnalysis,
                          SentenceAnalysis, Span, english_word, without_possessive)
from rag.embedding import Embedder
from rag.followup import Antecedent, kinds_of, standalone_question
from rag.models import Answer, Citation, Passage, ShortAnswer, Token, Turn

AnswerOf = Callable[[str, Sequence[Turn]], "Findings | None"]


@functools.lru_cache(maxsize=65536)
def stem(lemma: str) -> str:
    """Lemmas are matched by their stem, so a noun matches its verb ("meeting", "meet")."""
    return _STEMMER.stemWord(lemma)


NOT_FOUND = "The corpus does not hold an answer to this question."
ORDERED = ("Which came first is read from the two articles' dates; that each article reports what the question says "
           "is for you to check in the cited sentences.")
NO_PASSAGES = "No article in the corpus matches this question and its filters."
YES_NO = ("A yes-or-no question: here is the evidence from each source. A yes/no verdict needs the generative "
          "mode (llm_provider).")
_STEMMER = Stemmer.Stemmer("english")
_SOURCE_MARKER = re.compile(r"\s*\[\d+\]")  # "[7]" in an article's own text: only our markers may look so

# "which X" / "what X": the entity types X names (anything else: noun chunks headed by X)
SUMS = AMOUNTS - {"QUANTITY"}  # what a price or a value is said with
FOCUS_TYPES = {
    **dict.fromkeys("person individual man woman official minister leader president player author politician "
                    "executive director chairman spokesman founder entrepreneur businessman businesswoman athlete "
                    "actor actress singer coach judge lawyer scientist journalist".split(), frozenset({"PERSON"})),
    **dict.fromkeys("company firm bank group organization organisation agency party team university "
                    "newspaper airline union institution startup retailer manufacturer".split(), frozenset({"ORG"})),
    **dict.fromkeys("city state town capital region province place county continent village "
                    "island".split(), frozenset({"GPE", "LOC"})),
    # a country is also named by its people's adjective ("his Mongolian counterpart"); the name is preferred
    **dict.fromkeys("country nation".split(), frozenset({"GPE", "LOC", "NORP"})),
    **dict.fromkeys("year date day month decade century time".split(), TIMES),
    **dict.fromkeys("nationality religion".split(), frozenset({"NORP"})),
    **dict.fromkeys("language".split(), frozenset({"LANGUAGE", "NORP"})),
    **dict.fromkeys("percentage percent share rate".split(), frozenset({"PERCENT"})),
    # "240 mln dlrs" may be a bare CARDINAL; a price is no weight ("52,500 tonnes")
    **dict.fromkeys("price cost sum".split(), SUMS),
    "amount": AMOUNTS,
    **dict.fromkeys("number".split(), AMOUNTS),
    # measures: a quantity with its unit, or a bare number ("a population of 4.2 million")
    **dict.fromkeys("temperature height length distance weight speed population size depth width altitude "
                    "elevation capacity volume".split(), frozenset({"QUANTITY", "CARDINAL", "PERCENT"})),
    "age": frozenset({"DATE", "CARDINAL"}),  # spaCy takes "45 years old" for a date
    # a sum, which wire copy often gives as a bare figure ("Revs 11.5 mln vs 13.0 mln")
    **dict.fromkeys("salary budget revenue income profit loss fee fine wage".split(), SUMS),
}
# "what position does X hold?", "how is X described?": what the text calls X, a phrase set beside its name
ROLE_WORDS = frozenset({"position", "role", "title", "job", "post", "office", "rank", "occupation", "profession"})
DESCRIBING = frozenset({"describe", "call", "characterize", "characterise", "portray", "know", "refer"})
ANY_NAME = frozenset({"PERSON", "ORG", "NORP", "GPE", "LOC", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})
VALUE_WORDS = frozenset({"worth", "cost", "price", "value", "pay", "spend"})
PUBLISHING = frozenset({"publish", "report", "write", "post", "print", "date"})  # "When was it published?"
PUBLICATION = frozenset({"publication", "publish"})  # "the publication date"
ARTICLE_WORDS = frozenset({"article", "report", "story", "piece"})  # "the title of the report": its headline


def asks_what_subject_is_called(question: QuestionAnalysis) -> bool:
    """ "What position does Pak hold?", "How is Gombosuren described?": asks what the text calls someone or
    something it names, which an apposition says ("his counterpart, Amartuvshin Gombosuren")."""
    if not question.name_terms:
        return False
    return ((question.wh in ("what", "which") and question.focus in ROLE_WORDS)
            or (question.wh == "how" and question.root in DESCRIBING) or asks_who_someone_is(question))


def asks_who_someone_is(question: QuestionAnalysis) -> bool:
    """ "Who is Amartuvshin Gombosuren?": "is" and a name alone ask what the text calls that person ("his
    Mongolian counterpart"), not for another person (nor does "Who is on the panel?")."""
    text = question.own_text or question.text
    copula = _WHO_IS.match(text)
    rest = text[copula.end():].rstrip(" ?") if copula else ""
    words = rest.split()
    return bool(rest) and (any(text[e.start:e.end] == rest or _titled_name(rest, text[e.start:e.end])
                               for e in question.entities) or (
        all(w[:1].isupper() for w in words) and all(w.lower().strip("'’.") in question.name_terms for w in words)))
    # a name the small model tags as no entity ("Who is Maren Holt?") is still a name: its words are capitalized


def _titled_name(words: str, name: str) -> bool:
    """The words are a title and the name: "Vice-Minister Pak Myong Ho", "Foreign Minister Gombosuren"."""
    title = words[:-len(name)].split() if words.endswith(name) and words != name else []
    return bool(title) and title[-1].lower().split("-")[-1] in _PERSON_TITLES


_WHO_IS = re.compile(r"\s*who\s+(?:is|was|are|were)\s+(?:the\s+)?", re.IGNORECASE)


def expected_types(question: QuestionAnalysis) -> frozenset[str] | None:
    """The entity types that answer the question; None when any noun phrase may (or none: why, yes/no)."""
    wh, focus = question.wh, question.focus
    if asks_who_someone_is(question):
        return None
    if wh in ("who", "whom", "whose"):
        return PEOPLE
    if wh == "where":
        return (PLACES | {"NORP"}) if asks_origin(question) else PLACES  # "his Mongolian counterpart"
    if wh == "when":
        return TIMES
    if wh == "how":
        if focus in ("many", "much"):  # "how many days": the model types "63 days" as a date
            if focus == "much" and VALUE_WORDS & set(question.terms):
                return SUMS  # "How much did the canals cost?": a sum, not the hectares they water
            return AMOUNTS | TIMES if _counted_words(question) & TIME_UNITS else AMOUNTS
        if focus in ("long", "old", "often"):
            return TIMES | AMOUNTS
        if focus in ("far", "big", "large", "high", "tall", "deep", "heavy", "fast"):
            return AMOUNTS
    if wh in ("what", "which"):
        if question.kind:  # "what kind of state": "a free state", not the name of one
            return None
        if focus not in FOCUS_TYPES and _asks_value(question):
            return SUMS
        return FOCUS_TYPES.get(focus)
    return None


def asks_origin(question: QuestionAnalysis) -> bool:
    """ "Where is Pak Myong Ho from?", "What country does Gombosuren come from?": the place a person or a thing
    belongs to ("North Korea's Vice-Minister, Pak Myong Ho"), not where the story happens."""
    return question.wh in ("where", "what", "which") and bool(_FROM_END.search(question.own_text or question.text))


_FROM_END = re.compile(r"\bfrom\s*\??\s*$", re.IGNORECASE)

_VALUE_STEMS = frozenset(map(stem, VALUE_WORDS))
# nouns naming a kind of thing its type alone says ("Which country…?": any country), not a relation to another
# ("the capital of", "the population of")
TYPE_WORDS = frozenset("person people individual man woman company firm organization organisation group country "
                       "nation city town state place region province county continent island village year date day "
                       "month decade century time number amount percentage percent nationality religion language "
                       "name".split())


def _relation_asked(question: QuestionAnalysis) -> bool:
    """ "What is the capital of Mongolia?", "What was the population of Warsaw?": a noun of a relation to what
    follows "of", other than a kind its type says (TYPE_WORDS)."""
    return question.wh in ("what", "which") and question.focus not in TYPE_WORDS and bool(re.search(
        rf"\b{re.escape(question.focus)}\w*\s+of\b", question.own_text or question.text, re.IGNORECASE))


def _asks_value(question: QuestionAnalysis) -> bool:
    """ "What is it worth?", "What did they pay?", "What was its value?", "What pay rise did they accept?": a
    word of value where the question names no other kind of thing, or in the phrase naming what it asks for;
    not "What subject replaced values education?", which asks for a subject."""
    if question.focus in VALUE_WORDS or question.focus not in question.terms:
        return bool(VALUE_WORDS & set(question.terms))
    text = question.own_text or question.text
    return any(c.label == question.focus
               and not _VALUE_STEMS.isdisjoint(map(stem, re.findall(r"\w+", text[c.start:c.end].lower())))
               for c in question.chunks)


_HOW_MANY = re.compile(r"\bhow\s+(?:many|much)\s+(?:more\s+)?(\w+)", re.IGNORECASE)  # and what it counts
TIME_UNITS = frozenset("seconds minutes hours days weeks months years decades centuries time".split())


def _counted_words(question: QuestionAnalysis) -> set[str]:
    """What the question counts, lower case: "days" in "How many days did it last?"."""
    return {m.group(1).lower() for m in _HOW_MANY.finditer(question.text)}


def _counts(text: str, span: Span, counted: set[str]) -> bool:
    """The span is a number of what the question counts, its unit inside it ("12 days", "3 million tonnes" for
    "how many days", "how many tonnes"). A count noun after the number ("two people were taken to hospital")
    only counts as a word near it: "how many people were evacuated" is "6,400 residents … were evacuated"."""
    words = re.findall(r"\w+", text[span.start:span.end])
    return bool(words) and stem(words[-1].lower()) in counted


def _age(text: str, span: Span) -> bool:
    """The span gives someone's or something's age: "54 years old", "a 54-year-old", "aged 54", "Varga, 54,"."""
    words, after = text[span.start:span.end], text[span.end:span.end + 15]
    before = text[max(0, span.start - 20):span.start]
    return bool(re.search(r"\d", words)) and bool(
        re.search(r"years?[\s-]+old|year-old", words + after, re.IGNORECASE)
        or re.search(r"\baged?\s+(?:of\s+)?\d", before + words, re.IGNORECASE)
        or (after.startswith(",") and re.search(r"[A-Z][\w'’-]+,\s*$", before)))


def asks_for_a_kind(question: QuestionAnalysis) -> bool:
    """The answer is a thing of a kind the evidence must hold: an entity of the expected types, or a name."""
    return expected_types(question) is not None or asks_for_a_name(question)


@dataclass
class Sentence:
    passage_index: int
    analysis: SentenceAnalysis  # offsets relative to the passage text
    text: str
    vector: np.ndarray  # read in its passage's context (rag.embedding)
    article_id: str = ""
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0
    covers: float = 0.0  # share of the question's non-name words (by weight) the sentence holds
    extra: list["Sentence"] = field(default_factory=list)  # near-duplicates from other passages

    @property
    def lemmas(self) -> frozenset[str]:
        return frozenset(map(stem, self.analysis.terms))


SHORT_ANSWER_POOL = 8  # best sentences searched for a short answer


@dataclass(frozen=True)
class Evidence:
    """What decides whether the corpus holds the answer; none of it shrinks with the question's length."""

    names_found: bool  # every name (and number) the question uses is in a retrieved passage, title or source
    score: float  # the best relevance of a chosen sentence
    covers: float  # the most of the question's words other than names (by rarity) a chosen sentence holds
    dense: float  # the closest in meaning to the question a chosen sentence is
    typed: bool  # the question asks for a kind of thing (a person, a place, a date, a number, a name…)
    short: bool  # a span of that kind was found
    lexical: float = 0.0  # the most of all the question's words, names included, a chosen sentence holds
    closeness: float = 0.0  # the short answer's closeness to the question's words
    short_score: float = 0.0  # the relevance of the sentence the short answer stands in
    appositive: bool = False  # the short answer is what the text calls a name the question asks about
    placed: bool = False  # the short answer is the place the text puts what is asked about in (_placed)
    negation: bool = True  # a question that negates ("What didn't X affect?") has evidence that negates or
    # excludes too ("rather than three-dimensional objects"): an extractive answer quotes what the text asserts.
    # Not asked of a yes/no question: "Did X not sign?" is answered by "X signed" as well
    ahead: bool = True  # a question about the next of something ("Where will the next round be held?") has
    # evidence that speaks of what is to come: the talks just held do not say where the next ones will be
    tied: bool = False  # the short answer is of the asked type, and the text ties it to the person the question
    # asks whom they stand for ("his Mongolian counterpart, Amartuvshin Gombosuren"; see Candidate.tied)

    @classmethod
    def of(cls, question: QuestionAnalysis, chosen: list[Sentence], candidate, names_found: bool) -> "Evidence":
        if not chosen:
            return cls(names_found, 0.0, 0.0, 0.0, asks_for_a_kind(question), candidate is not None)
        return cls(names_found, max(s.score for s in chosen), max(s.covers for s in chosen), max(s.dense for s in chosen),
                   asks_for_a_kind(question), candidate is not None, max(s.lexical for s in chosen),
                   candidate.closeness if candidate else 0.0, candidate.sentence.score if candidate else 0.0,
                   bool(candidate and candidate.span.label == APPOSITION), bool(candidate and candidate.placed),
                   not question.negated or question.yes_no or any(_NEGATION.search(s.text) for s in chosen),
                   not question.ahead or any(_TO_COME.search(s.text) for s in chosen),
                   bool(candidate and candidate.tied and candidate.span.label in (expected_types(question) or ())))


def holds_answer(evidence: Evidence, min_score: float, min_coverage: float, close_meaning: float,
                 same_meaning: float) -> bool:
    """Whether the evidence answers the question: every name it uses was found, a question that negates has
    evidence that negates too, one about the next of something has evidence of what is to come, the lead
    sentence is relevant and holds enough of what is asked, or says it in other words (close in meaning with
    some of its words, or the same meaning with none), and for a question of a kind (who, when, how many…)
    something of that kind stands in the evidence. eval/calibrate.py shows the trade-off as the thresholds
    move."""
    if not evidence.names_found or not evidence.negation or not evidence.ahead:
        return False
    if evidence.placed and evidence.short_score >= PLACED_MIN_SCORE:
        return True  # "the meeting in Ulaanbaatar" for "Where did they meet?": said outright, in other words
    if evidence.tied and evidence.short_score >= PLACED_MIN_SCORE:
        return True  # "his Mongolian counterpart, Amartuvshin Gombosuren" for "Which country does he represent?"
    if evidence.appositive and evidence.lexical >= 1.0:
        return True  # "Who is Maren Holt?": "Brightfen chief executive Maren Holt", in a quote about another thing
    if evidence.score < min_score:
        return False
    if evidence.typed and (not evidence.short or evidence.short_score < min_score):
        return False  # nothing of the asked kind in relevant evidence
    if evidence.appositive and evidence.short_score >= min_score:
        return True  # the text says what it calls the name asked about: that is the answer, in its own words
    return (evidence.covers >= min_coverage or (evidence.covers > 0 and evidence.dense >= close_meaning)
            or evidence.dense >= same_meaning)


_NEGATION = re.compile(r"\b(?:not|never|no|none|nothing|neither|nor|without|rather\s+than|other\s+than|instead\s+of|"
                       r"except|unlike|no\s+longer|fail(?:s|ed)?\s+to|refus(?:e|es|ed)\s+to|lack(?:s|ed|ing)?|"
                       r"absence)\b|n['’]t\b", re.IGNORECASE)


_TO_COME = re.compile(r"\b(?:will|shall|next|upcoming|forthcoming|future|later|again|(?:scheduled|planned|plans?|"
                      r"set|expected|going)\s+to|to\s+be\s+held|due\s+to\s+\w+\s+(?:on|in|at|by|from)\b)\b|['’]ll\b",
                      re.IGNORECASE)  # "due to end at midnight", not "due to heavy rain"


@dataclass(frozen=True)
class Findings:
    chosen: list[Sentence]  # the answer's sentences, the lead first
    short: ShortAnswer | None
    evidence: Evidence
    published: Answer | None  # the answer from the article's date, for "when was it published?"
    yes_no: bool = False
    reported: bool = False  # the short answer is the date of an article reporting it (see reported_on)
    label: str = ""  # the short answer's entity type (PERSON, GPE…) or its phrase's head noun
    asked: str = ""  # the question as analyzed (recased when typed without capitals)
    respelled: tuple[tuple[str, str], ...] = ()  # the names the question misspelled, and as the articles spell them


@dataclass
class Candidate:
    text: str
    key: str  # normalized text
    sentence: Sentence
    span: Span  # offsets relative to the passage text
    score: float
    closeness: float  # to the question's words in its sentence (see _closeness)
    passages: set[int] = field(default_factory=set)
    placed: bool = False  # see _placed
    tied: bool = False  # of a question about whom someone stands for: said where the text names that someone


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(self, embedder: Embedder, analyzer: Analyzer, sentences_of: Callable[[list[Passage]], list],
                 *, max_sentences: int = 3, min_score: float = 0.35, min_coverage: float = 0.3,
                 close_meaning: float = 0.45, same_meaning: float = 0.6, dense_weight: float = 0.7,
                 margin: float = 0.08, require_question_names: bool = True):
        """sentences_of: passages -> for each passage its StoredSentences (rag.store), analyzed and embedded
        at ingest. min_score, min_coverage, close_meaning, same_meaning: see holds_answer.
        require_question_names: every name the question uses must be in the articles the answer quotes (one
        article for a question about one story; together for "X and Y" and yes/no questions).
        margin: sentences scoring within it of the best one are quoted too. Sentences of one passage, read in
        its context, score closer together than sentences embedded alone did: 0.08 quotes as many on the
        evaluation sets as 0.12 did then (eval/README.md)."""
        self.embedder = embedder
        self.analyzer = analyzer
        self.sentences_of = sentences_of
        self.max_sentences = max_sentences
        self.min_score = min_score
        self.min_coverage = min_coverage
        self.close_meaning = close_meaning
        self.same_meaning = same_meaning
        self.dense_weight = dense_weight
        self.margin = margin
        self.require_question_names = require_question_names

    def stream(self, question: str, passages: list[Passage]) -> Generator[Token, None, Answer]:
        """Each sentence of the answer as compose() writes it, with its markers; returns the Answer."""
        if not passages:
            return (yield from said(Answer(question=question, answer=NO_PASSAGES, answered=False, answerer=self.name)))
        found = self.findings(question, passages)
        respelling = read_as(found.respelled)
        if found.published is not None:
            return (yield from said(dataclasses.replace(found.published, notice=notices(respelling,
                                                                                        found.published.notice))))
        if not self.holds_answer(found.evidence):
            return (yield from said(Answer(question=question, answer=NOT_FOUND, answered=False, answerer=self.name,
                                           passages=passages, notice=respelling)))
        text, citations = yield from compose(found.chosen, passages)
        if found.reported:
            n = next(c.n for c in citations if c.passage.passage_id == found.short.passage_id)
            yield Token(" " + (dating := f"No sentence gives its date; the report is dated {found.short.text}. [{n}]"))
            text = f"{text} {dating}"
        return Answer(question=question, answer=text, answered=True, answerer=self.name, citations=citations,
                      passages=passages, short_answer=found.short,
                      notice=notices(respelling, YES_NO if found.yes_no else None))

    def rewrite(self, question: str, history: Sequence[Turn], answer_of: AnswerOf | None = None) -> str:
        """answer_of: (a question, the turns before it) -> what the answerer finds for it as the service asks it
        (answer_findings), so that a pronoun may stand for what was just answered (rag.followup)."""
        def names(text: str) -> list[str]:  # of a turn typed without capitals: as the passages spell them
            if answer_of is not None and not any(c.isupper() for c in text):
                found = answer_of(text, ())
                text = found.asked if found is not None else text
            return self.analyzer.names(text)

        return standalone_question(question, history, names,
                                   lambda previous, earlier: self.antecedents(previous, earlier, answer_of))

    def antecedents(self, previous: str, earlier: Sequence[Turn], answer_of: AnswerOf | None) -> Iterator[Antecedent]:
        """What a follow-up's pronoun may stand for, the likeliest first: the names of the previous question's
        subject, its answer (when a name; asked for only when no subject's name fits), the other names it used."""
        analysis = self.analyzer.question(previous)
        names = [e for e in analysis.entities if kinds_of(e.label)]
        subject = [e for e in names if analysis.subject_names & {w.lower() for w in previous[e.start:e.end].split()}]
        for name in [*subject, None, *(e for e in names if e not in subject)]:
            if name is not None:
                yield Antecedent(without_possessive(previous[name.start:name.end]), kinds_of(name.label))
            elif answer_of is not None and (answer := answer_of(previous, earlier)) is not None \
                    and answer.short is not None and kinds_of(answer.label):
                yield Antecedent(answer.short.text, kinds_of(answer.label))

    def answer_findings(self, question: str, passages: list[Passage]) -> "Findings | None":
        """The findings when they answer the question (what a follow-up's pronoun may point at), else None."""
        found = self.findings(question, passages) if passages else None
        return found if found is not None and found.published is None and self.holds_answer(found.evidence) else None

    def findings(self, question: str, passages: list[Passage]) -> "Findings":
        """Everything the answer is made of, before deciding whether it answers (eval/calibrate.py reads it)."""
        stored = self.sentences_of(passages)
        asked, changed = respelled(decapitalized(recased(question, passages, stored), passages), passages, stored)
        analysis = self.analyzer.question(asked)
        if not analysis.several and len(_side_sources(analysis.own_text or analysis.text, passages)) > 1:
            analysis = dataclasses.replace(analysis, several=True)  # "according to The Verge, and … TechCrunch"
        sentences = self.scored_sentences(analysis, passages, stored)
        if self.require_question_names and not analysis.several:  # one story: only articles naming it all
            naming = articles_naming(analysis, passages, stored)
            sentences = [s for s in sentences if passages[s.passage_index].article_id in naming]
        published = self.publication_answer(analysis, sentences, passages) or self.order_answer(
            analysis, sentences, passages)
        short, candidate = self.short_answer(analysis, sentences, passages)
        chosen = self.with_every_name(analysis, self.select(sentences, candidate and candidate.sentence), sentences,
                                      passages)
        names_found = not self.require_question_names or names_in(analysis, chosen, passages, stored)
        evidence = Evidence.of(analysis, chosen, candidate, names_found)
        reporting = self.reported_on(analysis, chosen, passages, evidence) if short is None else None
        reported = reporting is not None
        if reporting is not None:
            short = ShortAnswer(text=reporting.date, passage_id=reporting.passage_id, article_id=reporting.article_id,
                                start=None, end=None, passage_start=None, passage_end=None, confidence=0.5)
            evidence = dataclasses.replace(evidence, short=True, short_score=evidence.score)
        return Findings(chosen, short, evidence, published, analysis.yes_no, reported,
                        candidate.span.label if candidate is not None and short is not None else "", analysis.text,
                        tuple(changed))

    def reported_on(self, question: QuestionAnalysis, chosen: list[Sentence], passages: list[Passage],
                    evidence: "Evidence") -> Passage | None:
        """ "When did the talks take place?" where no sentence of the evidence dates them: the date of the
        article that reports them says when by (news reports what has just happened); the first dated one among
        the lead sentence's, its twins' in other articles and the other quoted sentences'. Only for what was done
        (not "When is the next meeting scheduled?"; "What is the date of the talks?" unless of the next ones), and
        only when the evidence answers otherwise."""
        dated = question.wh == "when" or question.focus in ("date", "day")  # "What is the date of the talks?"
        if not (dated and (question.past or (question.wh != "when" and not question.ahead))
                and self.holds_answer(dataclasses.replace(evidence, typed=False))):
            return None
        reports = (passages[s.passage_index] for sentence in chosen for s in [sentence, *sentence.extra])
        return next((passage for passage in reports if passage.date), None)

    def holds_answer(self, evidence: "Evidence") -> bool:
        return holds_answer(evidence, self.min_score, self.min_coverage, self.close_meaning, self.same_meaning)

    # --- sentences ------------------------------------------------------------------------------------
    def scored_sentences(self, question: QuestionAnalysis, passages: list[Passage], stored: list) -> list[Sentence]:
        sentences = [Sentence(i, s.analysis, _clean(p.text[s.analysis.start:s.analysis.end]), s.vector, p.article_id)
                     for i, (p, found) in enumerate(zip(passages, stored)) for s in found]
        if not sentences:
            return []
        weights = self.term_weights(question, [s.lemmas for s in sentences])
        # what is asked about, beyond the names: not the word that names the answer's kind ("which city",
        # "how long")
        names = {stem(t) for t in question.name_terms}
        kind = "" if question.focus in VALUE_WORDS else stem(question.focus)  # "worth" is said ("values it at")
        # nor the words that say who reported it ("according to the Harbour Ledger", "the article Gadget Post wrote")
        framing = _FRAMING_WORDS if _side_sources(question.own_text or question.text, passages) else {stem("accord")}
        asked = {t: w for t, w in weights.items() if t not in names and t != kind and t not in framing}
        if not asked and kind in weights and _relation_asked(question):
            asked = {kind: weights[kind]}  # "What is the capital of Mongolia?": nothing else is asked, and the
            # relation must be said ("Ulaanbaatar" in a sentence about the talks does not say it is the capital)
        dense = np.stack([s.vector for s in sentences]) @ self.embedder.embed_query(question.own_text or question.text)
        alternatives = question_words(question)
        for sentence, similarity in zip(sentences, dense):
            held = said_otherwise(weights, sentence.lemmas, alternatives)
            sentence.dense = float(similarity)
            sentence.lexical = _share(weights, held)
            sentence.covers = _share(asked, held) if asked else 1.0
            sentence.score = (self.dense_weight * sentence.dense + (1 - self.dense_weight) * sentence.lexical
                              + 0.03 / (1 + sentence.passage_index))
        return sorted(sentences, key=lambda s: -s.score)

    @staticmethod
    def term_weights(question: QuestionAnalysis, sentence_terms: list[frozenset[str]]) -> dict[str, float]:
        """The question's words weighted by their rarity among the candidate sentences (a word every sentence
        holds is the story's topic and says little); names weigh half: retrieval has found their story."""
        names = {stem(t) for t in question.name_terms}
        rarity = _rarity([t for t in map(stem, question.terms) if t not in _UNSAID], sentence_terms)
        return {t: (0.5 if t in names else 1.0) * w for t, w in rarity.items()}

    def select(self, ranked: list[Sentence], lead: Sentence | None = None) -> list[Sentence]:
        """The sentences within a margin of the top one, led by the short answer's sentence, else by the one
        among the first four that holds most of what is asked; near-duplicates folded together."""
        if not ranked:
            return []
        within = [s for s in ranked if s.score >= ranked[0].score - self.margin]
        lead = lead or max(within[:4], key=lambda s: (s.covers, s.score))
        chosen: list[Sentence] = []
        for sentence in [lead, *[s for s in within if s is not lead]]:
            twin = next((c for c in chosen if _near_duplicate(c, sentence)), None)
            if twin is not None:
                twin.extra.append(sentence)
            elif len(chosen) < self.max_sentences and (not chosen or sentence.covers > 0):
                chosen.append(sentence)
        return chosen

    def with_every_name(self, question: QuestionAnalysis, chosen: list[Sentence], ranked: list[Sentence],
                        passages: list[Passage]) -> list[Sentence]:
        """A question naming several people, places or stories is answered from the sentences that together
        name them: for a name no chosen sentence holds, the best sentence that does is added. A source's name
        ("according to The Verge and TechCrunch") is held by every sentence of that source's articles."""
        if not question.several or not chosen:
            return chosen
        sources = {i: _source_words(p) for i, p in enumerate(passages)}

        def holds(sentence: Sentence, name: str) -> bool:
            return name in sentence.lemmas or name in sources[sentence.passage_index]

        for name in sorted(stem(t) for t in question.name_terms):
            if any(holds(s, name) for s in chosen):
                continue
            holder = next((s for s in ranked[:30] if holds(s, name) and s.score >= self.min_score), None)
            if holder is not None and not any(_near_duplicate(holder, c) for c in chosen):
                chosen.append(holder)
        return chosen

    # --- the short answer -----------------------------------------------------------------------------
    def short_answer(self, question: QuestionAnalysis, ranked: list[Sentence],
                     passages: list[Passage]) -> tuple[ShortAnswer | None, Candidate | None]:
        """The best span of the asked kind in the best sentences, and the candidate it was."""
        types = expected_types(question)
        called = asks_what_subject_is_called(question)
        if not ranked or not question.wh or (question.wh == "how" and types is None and not called
                                             and not question.quality):
            return None, None
        pool = ranked[:SHORT_ANSWER_POOL]
        if asks_affiliation(question):  # whom someone stands for is said where the text names them, in a
            # sentence that may say nothing of representing
            names = {stem(t) for t in question.name_terms}
            pool += [s for s in ranked[SHORT_ANSWER_POOL:AFFILIATION_POOL] if names & s.lemmas]
        weights = {t: max(w, 0.05) for t, w in self.term_weights(question, [s.lemmas for s in ranked]).items()}
        candidates = self.candidates(question, types, pool, passages, weights)
        if not candidates and question.wh in ("what", "which") and types is not None and types <= ANY_NAME:
            # "which town": the small model may have typed a town it does not know as a person or a firm
            candidates = self.candidates(question, ANY_NAME, pool, passages, weights)
        if not candidates and types is None:  # the phrases headed by its noun all repeat the question
            candidates = self.candidates(question, None, pool, passages, weights, by_focus=False)
        if asks_for_a_name(question):  # "What is the name of the conference?": not "upcoming conferences"
            candidates = [c for c in candidates if _a_name(c)]
        if question.quality and any(c.span.label == QUALITY for c in candidates):
            candidates = self.on_the_scale(question.focus, candidates)
        if any(c.tied for c in candidates):  # whom Gombosuren represents is said where the text names him, not
            # by any country a sentence about representing names
            candidates = [c for c in candidates if c.tied]
        if not candidates:
            return None, None
        # two articles naming the same thing is evidence, unless it is a number as common as "one" or "two"
        best = max(candidates, key=lambda c: c.score + 0.15 * (len(c.passages) - 1)
                   * (not _SMALL_NUMBER.fullmatch(c.key)))
        passage = passages[best.sentence.passage_index]
        total = sum(max(c.score, 0.0) for c in candidates) or 1.0
        short = ShortAnswer(text=best.text, passage_id=passage.passage_id, article_id=passage.article_id,
                            start=passage.start + best.span.start, end=passage.start + best.span.end,
                            passage_start=best.span.start, passage_end=best.span.end,
                            confidence=round(min(1.0, max(best.score, 0.0) / total + 0.1 * (len(best.passages) - 1)), 3))
        return short, best

    def on_the_scale(self, adjective: str, candidates: list[Candidate]) -> list[Candidate]:
        """For "how important…?": the words that say how much of it ("pivotal"), close in meaning to the
        question's adjective, not any word before the noun ("direct engagement" for "How rare was the
        engagement?")."""
        words = [c.text for c in candidates if c.span.label == QUALITY]
        vectors = self.embedder.embed_cached([adjective, *words])
        close = {w for w, v in zip(words, vectors[1:]) if float(v @ vectors[0]) >= SAME_SCALE}
        return [c for c in candidates if c.span.label != QUALITY or c.text in close]

    def candidates(self, question: QuestionAnalysis, types: frozenset[str] | None, pool: list[Sentence],
                   passages: list[Passage], weights: dict[str, float], by_focus: bool = True) -> list[Candidate]:
        """weights: the question's terms weighted over all the ranked sentences (never below 0.05)."""
        found: dict[str, Candidate] = {}
        preferred = _preferred(question)
        asked = set(map(stem, question.terms))
        question_text = (question.own_text or question.text).lower()  # not the names carried from earlier turns
        names = {stem(t) for t in question.name_terms}
        acronyms = {w.lower() for w in _ACRONYM.findall(question.own_text or question.text)}  # "IPCC", "CEO"
        focus = question.focus if by_focus else ""
        # an untyped question with no phrase headed by the asked noun near: any phrase of the lead sentence
        lead_fallback = types is None and not asks_who_someone_is(question) and not any(
            c.label == focus for s in pool for c in _phrases(s.analysis, passages[s.passage_index].text))
        called = asks_what_subject_is_called(question)
        naming = asks_for_a_name(question)
        origin = asks_origin(question)
        subject = {stem(t) for t in question.subject_names or (question.name_terms if origin else ())}
        # of a question about what its subject did, or where it is from
        counted = set(map(stem, _counted_words(question)))
        asks_saying = bool(SAYING & {question.root, question.asked_verb})
        lasting = question.wh == "how" and question.focus == "long"  # how long: a duration or a length
        aging = question.wh == "how" and question.focus == "old"  # how old: an age
        causes = question.focus not in PURPOSE_NOUNS  # a why-question takes what came first, unless it asks a purpose
        valued = "MONEY" in preferred  # a sum ("how much", "what price"), not a count, an age or a length
        sum_asked = types is not None and "MONEY" in types and "QUANTITY" not in types  # "How much did it cost?";
        # not "How much rain fell?"
        numbers = _NUMBER.findall(question.own_text or question.text)  # "in 2021": near them, as near its words
        planned = question.wh == "when" and bool(_PLANNED_QUESTION.search(question_text))  # not what was done
        undergoing = _undergoing(question_text) if question.wh == "what" else set()
        affiliation = asks_affiliation(question)
        doing = question.wh == "what" and bool(_DOING.search(question_text))
        weights = {**weights, **dict.fromkeys(numbers, 1.0)}
        alternatives = question_words(question)
        said_of = {r for t in asked - names for r in (t, *alternatives.get(t, ()))}  # "death" for "die"
        others = {_RANKS.get(w, stem(w)) for w in question.others if w in _RANKS or stem(w) in _TITLE_STEMS}
        others = others if others & _TITLE_STEMS else set()  # "Who met the vice-minister?": not him
        other_party = _people_where(pool, passages, lambda a, text, e: _called(text, _phrases(a, text), e, others)) \
            if others else set()  # the people the text gives those titles, wherever it does
        roles = said_of & _TITLE_STEMS - others  # "chief executive" for "the CEO"
        leaving = roles and not question.past and not asked & _LEAVING_STEMS  # who holds a role now: not one who
        # left it (unless the question asks who left, or who held it)
        aliases = {a: t for t in weights for a in alternatives.get(t, ())}  # "chief" -> "ceo": closeness
        titled_person = question.wh in ("who", "whom") and bool(asked & _POSTS - {stem(w) for w in question.others})
        # "Who is X's president?"; not "Who funds the IPCC's Secretary?"
        gone = _people_where(pool, passages, lambda a, text, e: _left(a, text, e, roles) == 2) if leaving else set()
        # the people the text says left the post asked about
        elsewhere = _people_where(pool, passages, lambda a, text, e: _title_fit(
            text, _phrases(a, text), e, asked - names, alternatives, names, question_text) < 0) \
            if roles and names else set()  # those it gives the title asked about of another country or firm, or
        # another rank of it
        surnames = {passages[s.passage_index].text[e.start:e.end].split()[-1] for s in pool
                    for e in s.analysis.entities if e.label == "PERSON" and " " in passages[s.passage_index].text[
                        e.start:e.end].strip()} if types is not None and "PERSON" not in types else set()
        for sentence in pool:
            text = passages[sentence.passage_index].text
            numbers_at = _numbers_at(sentence.analysis, text, numbers)
            earlier = not question.past and not numbers and _before_report(
                sentence.analysis, text, passages[sentence.passage_index].date)
            described = _chunks_naming(sentence.analysis, names)
            phrases = _phrases(sentence.analysis, text)
            naming_subject = _holding(phrases, _name_starts(sentence.analysis, subject)) \
                if subject else []  # the phrases naming the question's subject ("North Korea's Vice-Minister")
            describing_subject = [d for n in naming_subject for d in _describing(text, phrases, n) if d != n] \
                if affiliation else []  # "his Mongolian counterpart" of "…, Amartuvshin Gombosuren'
            spans = (_reasons(sentence.analysis, text, causes) if question.wh == "why" else
                     _qualities(sentence.analysis, text, asked) if question.quality and types is None else
                     _spans_of_type(sentence.analysis, text, types, focus, sentence is pool[0] and lead_fallback))
            listed = []
            if question.plural and question.wh in ("what", "which"):  # "Switzerland and the Netherlands"
                listed = _lists(spans, text)
                spans = [*spans, *listed]
            side = _answer_side(question, sentence.analysis, text)
            if question.wh in ("who", "whom") and side is not None:  # "commemorates the children who…"
                spans = [*spans, *(_name_ending(sentence.analysis, p) for p in _beside_verb(phrases, text, side))]
            if question.possessed:  # whose board: a name before "'s board", after "the board of", of any type
                spans = [*spans, *(e for e in sentence.analysis.entities
                                   if e.label in ANY_NAME and _possessing(text, e, question.possessed))]
            if called:
                spans = [*spans, *_appositives(sentence.analysis, text, phrases, names)]
                if not question.quality:  # "How is Mongolia described?"; not "How important were the talks?"
                    spans = [*spans, *_cast_as(sentence.analysis, text, phrases, names)]
            if naming:
                spans = [*spans, *_named(sentence.analysis, text, phrases)]
            if asks_saying and question.wh == "what":  # "What did Kellan tell reporters?": his words
                spans = [*spans, *_quoted(sentence.analysis, text)]
            if undergoing:  # "What happened to the rate of flow?": "The rate of flow was increased"
                spans = [*spans, *_undergone(sentence.analysis, text, undergoing)]
            if doing:  # "… evolved as a means of doing what?": "acquiring nutrients"
                spans = [*spans, *_actions(sentence.analysis, text)]
            if types is None:  # "What is the box office of Harbour Lights?": "Box office: 48 million dollars"
                spans = [*spans, *_field_value(sentence.analysis, text, asked)]
            nones = _none_of(sentence.analysis, text, said_of) if counted else []
            spans = [*spans, *nones]  # "How many people died?": "No deaths were reported"
            spans = [*spans, *_compared(sentence.analysis, text, said_of)]  # "Net 22.3 mln vs 20.4 mln"
            for span in spans:
                span = span if span.label == QUOTE else _past_asked_head(span, text, asked)  # a quote stays whole
                if question.possessed:  # "Which company's board…?": "Orrin Labs" of "the Orrin Labs board"
                    span = _without_possessed(text, span, question.possessed)
                words = text[span.start:span.end]  # as quoted, or without a determiner
                words = words if span.label == QUOTE else _strip_determiners(words)
                if not words or words.lower() in question_text:
                    continue
                lasts = bool(_DURATION.search(text, span.start, span.end))  # "a week", "two years", "three-day"
                if (question.wh == "when" or question.focus in _WHEN_WORDS) and (lasts or (
                        question.past and _after_report(words, passages[sentence.passage_index].date))
                        or (not asks_saying and _SAID_ON.search(text, max(0, span.start - 30), span.start))):
                    continue  # "two years", "a three-day strike": how long, not when; a year after the report: to
                    # come; "the company said on Tuesday": when it was said, not when what it said happens
                if aging and not _age(text, span):
                    continue  # "How old is Ilse Varga?": "54 years old", "aged 54", "Varga, 54,"; not "two-day"
                if lasting and not lasts and span.label != "QUANTITY":
                    continue  # "How long will the strike last?": "three-day", not "February" or "18,000"; a length
                    # ("1.2 kilometres") is a quantity
                span_terms = {stem(w.lower()) for w in re.findall(r"\w+", words)}
                if not span_terms or span_terms <= asked | _FUNCTION_WORDS or span.label in STOP_WORDS or (
                        words.lower() in STOP_WORDS and span.label not in AMOUNTS
                        and not (span.label in ANY_NAME | TIMES and words[:1].isupper())):
                    continue  # what the question says, or a pronoun: a noun chunk of one ("that", "they"), or one
                    # listed as a headed phrase's item ("which" in "the Moselle, which…"); not "eight", nor a name
                    # or a date spelled like a stop word ("May", "US")
                if (span.label in ANY_NAME and 2 * len(span_terms & names) > len(span_terms - _FUNCTION_WORDS)) \
                        or _initials(words) & (names | acronyms):
                    continue  # the question's own name, said in full ("PanCanadian Petroleum Ltd" for "PanCanadian
                    # Petroleum's", "Court of Maritime Appeals" for "the CMA"); not "the University of Chicago" for a
                    # question about Chicago
                if words in gone:
                    continue  # "John Stiska has resigned as its president" for "Who is Triton's president now?"
                if words in elsewhere:
                    continue  # "Serevian Foreign Minister Dario Kellan", "Ostmere's Vice Foreign Minister Ilse Varga"
                    # for "Who is Ostmere's foreign minister?"
                if sum_asked and span.label == "CARDINAL" and _measured(text, span, _with_unit(span, text, asked)):
                    continue  # "62,000 hectares" for "How much did the canals cost?": what they water, no sum
                if words in other_party:
                    continue  # "North Korea's Vice-Minister, Pak Myong Ho" for "Who met the vice-minister?": the
                    # other party to what the question asks about
                if words in surnames and span.label != "PERSON":
                    continue  # "Varga was accompanied by…", tagged an organization: Ilse Varga, named in full nearby
                key = words.lower()
                placed = False
                closeness = _closeness(sentence.analysis, text, span, weights,
                                       _explained(sentence.analysis, text, span), numbers_at, aliases)
                if span.label == PURPOSE and (closeness < MIN_PURPOSE_CLOSENESS or stem(
                        words.split()[0].lower()) in asked):
                    continue  # "to" and a verb is a purpose only beside what the question asks about, and not
                    # the question's own verb ("ordered securities houses to report…" for "Why did it order them
                    # to report…?": what was ordered, not why)
                score = sentence.score + 0.3 * sentence.covers + 0.5 * closeness
                tied = affiliation and span.label in ANY_NAME and (
                    _inside(span, describing_subject) or _inside(span, naming_subject) or (
                        span.label == "PERSON" and _inside_any(_describing(text, phrases, span), described)))
                # whom a person stands for (a name), said where the text names the person: "his Mongolian counterpart,
                # Amartuvshin Gombosuren", "Mongolia's Gombosuren" for "Which country does Gombosuren represent?";
                # "North Korea's Vice-Minister, Pak Myong Ho" for "Who represented North Korea?"
                if roles and span.label == "PERSON":  # "Who is Serevia's trade minister?"
                    left = _left(sentence.analysis, text, span, roles) if leaving else 0
                    score += SIDE_WEIGHT * _title_fit(text, phrases, span, asked - names, alternatives, names,
                                                      question_text)
                    score -= 2 * SIDE_WEIGHT if left else 0.0  # he left another post: "Teo Brask resigned as
                    # chairman" for "Who runs Norlit?"
                if titled_person and span.label in ANY_NAME - {"PERSON"} and not _titled(text, span):
                    continue  # "Who is Ducommun's president?": a person, not "Kierulff, Ducommun"; "Who is Ostmere's
                    # foreign minister?": not "Serevian" of the title of another country's minister
                score += 0.15 if span.label in preferred or (
                    "PERSON" in preferred and span.label in ANY_NAME and _titled(text, span)) or (
                    "MONEY" in preferred and span.label == "CARDINAL" and _CURRENCY.match(text, span.end)) else 0.0
                # a person for who (also a name the model mistyped after a title: "chief executive Maren Holt"),
                # a place for where…
                if types is not None and span.label in PLACES and types & PLACES and not origin:  # where someone
                    # is from: not where events happened; and the place qualifying a noun says it ("Estonia's minister")
                    if _possessive(text, span):
                        score -= 0.3  # "North Korea's minister": it qualifies the noun after it, no place of events
                    if _locative(text, span):
                        score += LOCATIVE_WEIGHT  # where something happened, rather than who took part in it
                        placed = _placed(sentence.analysis, span, asked - names)
                        score += LOCATIVE_WEIGHT if placed else 0.0
                    if _within_place(sentence.analysis, text, span):  # "Merrowick, in northern Lunaria": the
                        # town, where events happened, said most precisely; not the country asked for
                        score += -LOCATIVE_WEIGHT if question.focus in REGIONS else LOCATIVE_WEIGHT
                # partly what the question names, other than what it counts ("12 days" for "how many days")
                score -= 0.3 * len(span_terms & asked - counted) / len(span_terms)
                if side is not None and span.label != QUOTE:  # on the side of the question's verb where its
                    # subject or object stands (what was said stands on either side of "said")
                    score += SIDE_WEIGHT if (span.start >= side[0]) == (side[1] == "after") else -SIDE_WEIGHT
                    if _in_parenthesis(sentence.analysis, text, span):
                        score -= SIDE_WEIGHT  # "Caroline Ellison, the former chief of Alameda Research, testified":
                        # the name the aside describes did it, not the firm inside the aside
                if earlier:
                    score -= SIDE_WEIGHT  # set in a year before the report's: the question asks about now
                if planned and _TO_COME.search(sentence.text):
                    score += SIDE_WEIGHT  # "When is the strike set to end?": "is due to end on Wednesday"
                if question.possessed and _possessing(text, span, question.possessed):
                    score += SIDE_WEIGHT  # "Orrin Labs's board", "the board of Orrin Labs"
                if counted and (_counts(text, span, counted) or span in nones):
                    score += 0.3  # "12 days": the number of what the question counts; "no deaths" for died
                if span in listed:
                    score += LIST_WEIGHT  # a plural question asks for several things
                if counted and _PART_OF.match(text, span.end):
                    score += 0.1  # "adopted by 11 of the then 12 member states": how many did it is the part
                if span.label in (APPOSITION, NAMED, QUOTE, UNDERGONE, ACTION, FIELD):
                    score += 0.3  # what the text calls the subject asked about, the name it gives, what was said,
                    # what was done
                elif tied:
                    score += 0.3
                elif any(c.start <= span.start and span.end <= c.end and not _titled_as_asked(text, c, span, roles)
                         for c in described) and not (counted and span.label in AMOUNTS):  # "fourteen Vice
                    # Presidents" counts them; "Brightfen chief executive Maren Holt" answers "Who is the CEO
                    # of Brightfen?"
                    score -= 0.3  # inside the phrase naming the question's subject ("Ostmere's minister Varga")
                if _apposed_to_subject(text, span, naming_subject) and not affiliation:
                    score -= 0.3
                current = found.get(key)
                if current is None or (tied, score) > (current.tied, current.score):  # where the text ties it
                    # to the person asked about, if it does
                    # a sum is shown with its unit; its key stays the figure, which articles agree on
                    shown = _with_unit(span, text, asked) if valued and span.label == "CARDINAL" else span
                    shown_words = words if shown is span else _strip_determiners(text[shown.start:shown.end])
                    start = shown.start + text[shown.start:shown.end].find(shown_words)
                    found[key] = Candidate(shown_words, key, sentence,
                                           Span(start, start + len(shown_words), span.label), score, closeness,
                                           (current.passages if current else set()), placed, tied)
                found[key].passages.add(passages[sentence.passage_index].article_id)
        return _merge_contained(list(found.values()), asked)

    # --- questions about an article's own date ----------------------------------------------------------
    def order_answer(self, question: QuestionAnalysis, ranked: list[Sentence],
                     passages: list[Passage]) -> Answer | None:
        """ "Was the TechCrunch report on X published before or after The Verge's report on Y?", "Did The Verge
        report X after TechCrunch reported Y?": each side's best article (of the source it names, if it names
        one), and the order of their dates; None unless both sides are found, in two dated articles."""
        order = order_of(question)
        if order is None or not ranked:
            return None
        first, word, second = order
        if not _REPORTING.search(question.own_text or question.text) and not (
                _side_sources(first, passages) and _side_sources(second, passages)):
            return None  # it compares reports: it says so, or names a source on each side
        sides = [self.side(words, ranked, passages) for words in (first, second)]
        if None in sides or sides[0].passage.article_id == sides[1].passage.article_id:
            return None
        a, b = sides
        if a.passage.date is None or b.passage.date is None:
            return None
        relation = "before" if a.passage.date < b.passage.date else "after" if a.passage.date > b.passage.date else ""
        if word in ("before or after", "after or before"):
            verdict = relation
        elif relation:
            verdict = "Yes" if (relation == "after") == (ORDER_WORDS[word] > 0) else "No"
        else:
            verdict = ""  # the same day: the dates cannot tell which came first
        body, citations = drained_compose([a.sentence, b.sentence], passages)
        said_order = (f"{_described(a.passage)} ({a.passage.date}) came {relation} {_described(b.passage)} "
                      f"({b.passage.date})" if relation else
                      f"{_described(a.passage)} and {_described(b.passage)} are dated the same day, "
                      f"{a.passage.date}; their dates do not tell which came first")
        said_order = said_order[:1].upper() + said_order[1:]
        text = f"{verdict + ': ' if verdict in ('Yes', 'No') else ''}{said_order}. [1][2] {body}"
        short = None if not verdict else ShortAnswer(
            text=verdict, passage_id=a.passage.passage_id, article_id=a.passage.article_id, start=None, end=None,
            passage_start=None, passage_end=None, confidence=round(min(a.sentence.score, b.sentence.score), 3))
        return Answer(question=question.text, answer=text, answered=True, answerer=self.name, citations=citations,
                      passages=passages, short_answer=short, notice=ORDERED)

    def side(self, words: str, ranked: list[Sentence], passages: list[Passage]) -> Side | None:
        """The sentence that best says these words (in an article of the source they name, if any): the
        embedding similarity to them and the share of their words it holds, averaged with its relevance to the
        whole question (a side may say "his ouster", whose name the other side gives)."""
        sources = _side_sources(words, passages)
        pool = [s for s in ranked if not sources or passages[s.passage_index].source in sources]
        if not pool:
            return None
        terms = {stem(w) for w in _WORDS.findall(words.lower())} - _STOP_STEMS
        terms -= {stem(w) for source in sources for w in _content_words(source)}
        weights = _rarity(terms, [s.lemmas for s in ranked])
        vector = self.embedder.embed_query(_without_sources(words, sources))  # what it reports, not who
        best, best_score = None, -1.0
        for sentence in pool:
            score = (self.dense_weight * float(sentence.vector @ vector) + (1 - self.dense_weight)
                     * _share(weights, said_otherwise(weights, sentence.lemmas)) + sentence.score) / 2
            if score > best_score:
                best, best_score = sentence, score
        if best is None or best_score < (SIDE_MIN_SCORE if sources else self.min_score):
            return None
        return Side(dataclasses.replace(best, score=best_score, extra=[]), passages[best.passage_index])

    def publication_answer(self, question: QuestionAnalysis, ranked: list[Sentence],
                           passages: list[Passage]) -> Answer | None:
        """Questions about an article itself, answered from its record: "When was the report on X published?"
        -> the date of the best-matching dated article; "What is the headline of the report on X?" -> its
        title."""
        field = _article_field_asked(question)
        holding = [p for p in passages if getattr(p, field)] if field else []
        if not holding:
            return None
        best_article = next((passages[s.passage_index].article_id for s in ranked
                             if getattr(passages[s.passage_index], field)), holding[0].article_id)
        passage = next(p for p in passages if p.article_id == best_article)
        value = getattr(passage, field)
        text = (f"“{passage.title}” is dated {value}. [1]" if field == "date"
                else f"The article's headline is “{value}”. [1]")
        short = ShortAnswer(text=value, passage_id=passage.passage_id, article_id=passage.article_id,
                            start=None, end=None, passage_start=None, passage_end=None, confidence=1.0)
        return Answer(question=question.text, answer=text, answered=True, answerer=self.name,
                      citations=[Citation(n=1, passage=passage)], passages=passages, short_answer=short)


ORDER_WORDS = {"before": -1, "after": 1, "earlier than": -1, "later than": 1, "prior to": -1, "following": 1,
               "preceding": -1}
_ORDER = re.compile(r"[\s,]*\b(before\s+or\s+after|after\s+or\s+before|" + "|".join(ORDER_WORDS) + r")\b[\s,]*",
                    re.IGNORECASE)
_REPORTING = re.compile(r"\b(?:articles?|reports?|reported|reporting|stor(?:y|ies)|pieces?|coverage|published|wrote|"
                        r"written|posts?|posted)\b", re.IGNORECASE)


_STOP_STEMS = frozenset(map(stem, STOP_WORDS))
SIDE_MIN_SCORE = 0.2  # a side's best sentence among the articles of the source it names: that source's
# report on it, though it may say it in a few words ("The Verge's report on his ouster")


@dataclass(frozen=True)
class Side:
    """One of the two reports a before-or-after question compares: its best sentence, article and date."""

    sentence: Sentence
    passage: Passage


def order_of(question: QuestionAnalysis) -> tuple[str, str, str] | None:
    """ "Did the TechCrunch article report X after The Verge reported Y?" -> (the words before the order word,
    the order word, the words after it); None for a question with no one order word between two clauses."""
    text = question.own_text or question.text
    if not question.yes_no:
        return None
    found = list(_ORDER.finditer(text))
    if len(found) != 1:
        return None
    match = found[0]
    first, second = text[:match.start()].strip(), text[match.end():].strip(" ?.!")
    if len(_WORDS.findall(first)) < 3 or len(_WORDS.findall(second)) < 2:
        return None
    return first, " ".join(match.group(1).lower().split()), second


def recased(question: str, passages: list[Passage], stored: list) -> str:
    """A question typed in lower case ("who is the finance chief of orrin labs") with the names the retrieved
    passages spell in capitals ("Orrin Labs") and its first letter capitalized, so that the small model reads
    its names as names. A question in title case ("Who Did Pak Myong Ho Meet?") is read as typed in lower case:
    its capitals tell no name. A question with any other capital is left as it is."""
    if _title_cased(question):
        question = question.lower()
    if any(c.isupper() for c in question) or not passages:
        return question
    names: dict[str, str] = {}
    for passage, sentences in zip(passages, stored):
        for name in (passage.text[e.start:e.end] for s in sentences for e in s.analysis.entities if e.label in ANY_NAME
                     and (e.start > s.analysis.start or " " in passage.text[e.start:e.end])):  # not "Oxygen is…"
            if len(name) > 2 and name.lower() not in STOP_WORDS and any(c.isupper() for c in name):
                names.setdefault(name.lower(), name)
        if passage.source:
            names.setdefault(passage.source.lower(), passage.source)
    if names:
        pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?!\w)")
        question = pattern.sub(lambda m: names[m.group()], question)
    return question[:1].upper() + question[1:]


_QUESTION_WORD = re.compile(r"(?<=\s)[A-Z][a-z]+(?:['’]s)?(?![\w'’-])")  # capitalized, not the question's first
_LOWER = re.compile(r"(?<![\w'’-])[a-z][a-z'’-]*")


def _title_cased(question: str) -> bool:
    """Four words in five capitalized or more, a function word among them after the first ("When Did The Talks
    Take Place?", "Which Country did the Minister Travel To?"), not "Who wrote for The Verge?"."""
    words = re.findall(r"[^\W\d_][\w'’-]*", question)
    capitalized = [w for w in words if w[0].isupper()]
    return len(words) >= 3 and len(capitalized) >= 0.8 * len(words) and any(
        w.lower() in STOP_WORDS for w in capitalized[1:])


def decapitalized(question: str, passages: list[Passage]) -> str:
    """A question with capitals on common words ("When Did The Talks Take Place?", "Which Country does Gombosuren
    Represent?") without them, so that only its names must be found in the articles: a capitalized word is read
    as a common one when the retrieved passages use it in lower case and never capitalize it inside a sentence
    (or it is a function word they never capitalize there). A name no passage holds stays a name."""
    texts = [p.text for p in passages] + [p.source for p in passages if p.source]
    lower, capitalized = set(), set()
    for text in texts:
        lower.update(w.strip("'’-") for w in _LOWER.findall(text))
        capitalized.update(_POSSESSIVE_S.sub("", m.group()) for m in _INSIDE_CAPITALIZED.finditer(text))
    lower |= {stem(w) for w in lower}

    def common(m: re.Match) -> str:
        word = _POSSESSIVE_S.sub("", m.group())
        low = word.lower()
        if word in capitalized or not (low in STOP_WORDS or low in lower or stem(low) in lower):
            return m.group()
        return m.group().lower()

    return _QUESTION_WORD.sub(common, question)


_INSIDE_CAPITALIZED = re.compile(r"(?<=[\w,;)\]'’\"”-] )[A-Z][\w'’-]*")  # after a word: not a sentence's first


def respelled(question: str, passages: list[Passage], stored: list) -> tuple[str, list[tuple[str, str]]]:
    """A question whose names no retrieved article holds as written, with each respelled as the closest name the
    passages hold ("Ulanbaatar" -> "Ulaanbaatar", "Gombosurin" -> "Gombosuren", "North Corea" -> "North Korea"):
    one letter off for a name of up to eight letters, two for a longer one, accents aside, when one name alone is
    that close. Names of four letters or fewer and English words are never respelled, but for their accents.
    Returns the question and each name respelled, as written and as spelled now."""
    seen = _article_words({p.article_id for p in passages}, passages, stored)
    names: dict[str, str] = {}
    for passage, sentences in zip(passages, stored):
        spelled = [passage.text[e.start:e.end] for s in sentences for e in s.analysis.entities if e.label in ANY_NAME]
        spelled += _INSIDE_CAPITALIZED.findall(passage.text)  # a name the small model did not tag
        for word in _NAME_WORD_IN.findall(" ".join([*spelled, passage.source or ""])):
            if word.lower() not in STOP_WORDS:
                names.setdefault(_folded(word), word)
    changes: list[tuple[str, str]] = []

    def closest(m: re.Match) -> str:
        word = m.group()
        folded = _folded(word)
        if len(word) < 5 or word.lower() in STOP_WORDS or word.lower() in seen or stem(word.lower()) in seen:
            return word
        if folded in names:
            found = [names[folded]]
        elif english_word(word):
            return word  # "Peace" is no misspelling of "Pearce"
        else:
            most = 1 if len(word) <= 8 else 2
            near = [(_edits(folded, key, most), name) for key, name in names.items()
                    if abs(len(key) - len(folded)) <= most]
            best = min((edits for edits, _ in near), default=most + 1)
            found = [name for edits, name in near if edits == best <= most]
        if len(found) != 1:
            return word
        changes.append((word, found[0]))
        return found[0]

    question = _NAME_WORD_IN.sub(closest, question)
    return question, changes


def read_as(respelled: Sequence[tuple[str, str]]) -> str | None:
    """What the answer tells of the names it respelled: 'Read "Ulanbaatar" as "Ulaanbaatar", as the articles
    spell it.'"""
    if not respelled:
        return None
    pairs = [f'"{written}" as "{spelled}"' for written, spelled in respelled]
    listed = pairs[0] if len(pairs) == 1 else ", ".join(pairs[:-1]) + " and " + pairs[-1]
    return f"Read {listed}, as the articles spell {'it' if len(pairs) == 1 else 'them'}."


def notices(*said: str | None) -> str | None:
    """The notices said, as one."""
    return " ".join(n for n in said if n) or None


_NAME_WORD_IN = re.compile(r"(?<![\w'’])[A-Z][^\W\d_]+(?!\w)")  # "Gombosuren"; "Bankman", "Fried" of "Bankman-Fried"


def _folded(word: str) -> str:
    """Lower case, without accents ("Möngke" -> "mongke")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _edits(a: str, b: str, most: int) -> int:
    """The letters inserted, deleted, changed or swapped with a neighbour that make a into b; most + 1 once it
    is more than most."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > most:
            return most + 1
        before, row = row, current
    return row[-1]


def _without_sources(words: str, sources: set[str]) -> str:
    """The words without the sources' names and the words that say a report was made ("the Coastal Wire report
    on her ouster" -> "on her ouster")."""
    for source in sources:
        words = re.sub(rf"(?:\bthe\s+)?{re.escape(source)}(?:['’]s?)?", " ", words, flags=re.IGNORECASE)
    return " ".join(_REPORTING.sub(" ", words).split()) or words


def _side_sources(words: str, passages: list[Passage]) -> set[str]:
    """The sources of the passages that these words name ("the TechCrunch article" -> {"TechCrunch"})."""
    said = f" {' '.join(_content_words(words))} "
    return {p.source for p in passages if p.source and f" {' '.join(_content_words(p.source))} " in said}


def _article_field_asked(question: QuestionAnalysis) -> str | None:
    """ "date" for "when was it published?", "title" for "what is the headline (the title of the report)?"."""
    if question.wh == "when" and question.root in PUBLISHING:
        return "date"
    if question.wh in ("what", "which") and question.focus == "date" and PUBLICATION & set(question.terms):
        return "date"  # "What is the publication date of the report?"
    if question.wh in ("what", "which") and (
            question.focus == "headline" or (question.focus == "title" and ARTICLE_WORDS & set(question.terms))):
        return "title"
    return None


_FUNCTION_WORDS = {"a", "an", "the", "of", "and", "in", "on", "for", "to", "'s", "s"}
_DETERMINERS = re.compile(r"^(?:the|a|an|this|that|these|those|its|their|his|her)\s+", re.IGNORECASE)


def _strip_determiners(text: str) -> str:
    """The words of a phrase without a leading determiner, a possessive ending ("North Korea's") or a dangling
    conjunction ("May, June, July and", where the small model cut a list)."""
    words = without_possessive(_DETERMINERS.sub("", " ".join(text.split()).lstrip("("))).strip(" ,;:.<>")
    return _DANGLING.sub("", words)


_DANGLING = re.compile(r"[\s,]+(?:and|or|but|nor)$")


_PERSON_TITLES = frozenset({t for t, kinds in FOCUS_TYPES.items() if kinds == {"PERSON"}} | {
    "mayor", "governor", "secretary", "ambassador", "envoy", "chief", "ceo", "mr", "mrs", "ms", "dr"})
_TITLE_STEMS = frozenset(map(stem, _PERSON_TITLES))
_POSTS = frozenset(map(stem, ("president", "chairman", "chairwoman", "chief", "ceo", "director", "minister", "mayor",
                              "governor", "secretary", "ambassador", "envoy", "leader", "spokesman", "spokeswoman")))
# a post only a person holds: "Who is X's president?" is answered by a person ("a man" may be tagged otherwise)
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?\s+$")


def _titled(text: str, span: Span) -> bool:
    """The name follows a person's title: "chief executive Maren Holt", "Mayor Clara Ventis"."""
    before = _WORD_BEFORE.search(text, max(0, span.start - 30), span.start)
    return before is not None and before.group(1).lower() in _PERSON_TITLES


def _title_fit(text: str, phrases: list[Span], span: Span, asked: set[str], alternatives: dict[str, frozenset[str]],
               names: set[str], question_text: str) -> int:
    """How the title before a person's name fits the one the question asks about: 1 when it holds every word the
    question asks with, itself or in the lexicon's words for it, and names only what the question names
    ("Serevian Trade Minister Petra Odell" for "Who is Serevia's trade minister?", "The finance chief Piet Lorne"
    for "Who runs Orrin Labs?"); -1 when it names another rank ("Vice Foreign Minister Ilse Varga" for "Who is
    Ostmere's foreign minister?"); -2 when it is the title asked about, of another country or firm than the question
    names ("Serevian Foreign Minister Dario Kellan"); else 0."""
    phrase = next((p for p in phrases if p.start <= span.start and span.end <= p.end), None)
    if phrase is None:
        return 0
    start = phrase.start
    if start == span.start:  # the model may chunk the title apart: "The finance chief" "Piet Lorne"
        start = max((p.start for p in phrases if p.end <= span.start and not text[p.end:span.start].strip()),
                    default=span.start)
        if start == span.start:
            return 0
    words = _WORD.findall(text[start:span.start])
    ranks = {_RANKS[w.lower()] for w in words if w.lower() in _RANKS}
    if ranks - {_RANKS[w] for w in re.findall(r"[\w-]+", question_text) if w in _RANKS}:
        return -1
    held = {stem(w.lower()) for w in words}
    said = asked | {a for t in asked for a in alternatives.get(t, ())}
    named = [stem(w.lower().removesuffix("'s").removesuffix("’s")) for w in words
             if w[:1].isupper() and w.lower() not in STOP_WORDS]
    named = [w for w in named if w not in said and w not in _TITLE_STEMS and w not in _RANKS]
    if not asked or not all(t in held or not held.isdisjoint(alternatives.get(t, ())) for t in asked):
        return 0
    if names and not all(any(w.startswith(n) or n.startswith(w) for n in names) for w in named):
        return -2  # "Serevian Foreign Minister Dario Kellan" is no answer to "Who is Ostmere's foreign minister?"
    return 1


_RANKS = {"vice": "vice", "deputy": "vice", "assistant": "assistant"}  # another role than the title's; "former"
# is another time ("Who ran Ravel?": "the former Ravel chief Tomas Brandt")


_LEAVING_BEFORE = re.compile(r"\b(?P<verb>removed|removes|removing|ousted|ousts|ousting|fired|fires|sacked|dismissed|"
                             r"dismisses|replaced|replaces|replacing|succeeded|succeeds|succeeding)\b"
                             r"(?!\s+(?:by|in)\b)(?P<between>(?:\s+(?!(?:and|or|but|while|then|by)\b)[\w'’-]+){0,4})"
                             r"\s*$", re.IGNORECASE)
_LEAVING_AFTER = re.compile(r"^(?:\s*,?\s*(?:who|which)?\s*(?:has|had|have|will|would)?\s*)"
                            r"(?:resigned|resigns|stepped\s+down|steps\s+down|quit|quits|retired|retires)\b",
                            re.IGNORECASE)
_STAYING_AFTER = re.compile(r"^\s*,?\s*(?:\d+\s*,\s*)?who\s+(?:remains|will\s+remain|continues|will\s+continue|"
                            r"becomes|will\s+become|moves|moved|(?:was|has\s+been|will\s+be)\s+(?:elected|named|"
                            r"appointed|made))\b", re.IGNORECASE)
_LEAVING_STEMS = frozenset(map(stem, ("remove", "oust", "fire", "sack", "dismiss", "replace", "succeed", "resign",
                                      "step", "quit", "retire", "leave", "left", "depart", "former")))


def _left(sentence: SentenceAnalysis, text: str, span: Span, roles: set[str]) -> int:
    """Whether the sentence says the person left a post: removed, ousted, fired, replaced or succeeded just before
    the name (not "replaced by X"), or resigned, stepped down, quit, retired just after it. 2 when the post is the
    role asked about (roles: its stems), said as what the person left ("resigned as its president", "removed Ada
    Quell as chief executive", "ousted chief executive Ada Quell") or, for one replaced or succeeded, as what the
    newcomer got ("Evans has been elected president, succeeding James Baker"); 1 for another post; 0 when the
    sentence does not say so, or says the person holds the role asked about still ("succeeding Lindsay Tait, who
    remains chairman" for "Who chairs…?")."""
    end = min(sentence.end, span.end + 80)
    after = text[span.end:end]
    start = max(sentence.start, span.start - 60)
    before = _LEAVING_BEFORE.search(text[start:span.start])
    went = _LEAVING_AFTER.match(after)
    if not before and not went:
        return 0
    staying = _STAYING_AFTER.match(after)
    if staying and roles & _clause_stems(after[staying.end():]):
        return 0
    post = _clause_stems(after[went.end():]) if went else set()
    if before:
        post |= _clause_stems(before.group("between"))
        if re.match(r"\s*as\s", after):  # "removed Ada Quell as chief executive"
            post |= _clause_stems(after)
        if before.group("verb").lower().startswith(("replac", "succeed")):
            post |= _clause_stems(text[sentence.start:start + before.start("verb")], last=True)
    return 2 if roles & post else 1


def _people_where(pool: list[Sentence], passages: list[Passage],
                  test: Callable[[SentenceAnalysis, str, Span], bool]) -> set[str]:
    """The people the test holds for where a sentence names them, by name and by surname (unless another person
    the sentences name has it)."""
    people = {(" ".join(text[e.start:e.end].split()), test(s.analysis, text, e)) for s in pool
              for text in (passages[s.passage_index].text,) for e in s.analysis.entities if e.label == "PERSON"}
    held = {name for name, holds in people if holds}
    others = {name.split()[-1] for name, _ in people if name not in held}
    return held | {name.split()[-1] for name in held} - others


def _clause_stems(text: str, last: bool = False) -> set[str]:
    """The stems of the words of text up to its first comma, semicolon or full stop (its last clause, if last)."""
    parts = [p for p in re.split(r"[,;.](?:\s|$)", text) if p.strip()] or [""]
    return {stem(w.lower()) for w in _WORD.findall(parts[-1] if last else parts[0])}


def _titled_as_asked(text: str, phrase: Span, span: Span, roles: set[str]) -> bool:
    """The words of the phrase before the name say the role the question asks about (a person's title), in its
    words or in other words ("Brightfen chief executive" for "the CEO of Brightfen")."""
    return bool(roles) and bool({stem(w.lower()) for w in _WORD.findall(text[phrase.start:span.start])} & roles)


def _preferred(question: QuestionAnalysis) -> frozenset[str]:
    """The types preferred among the expected ones: a person for who, a city or country for where, an amount
    with its unit for how much, a sum for a price, a day for when."""
    if question.wh in ("who", "whom", "whose"):
        return frozenset({"PERSON"})
    if question.wh == "where" or question.focus in ("country", "nation"):
        return frozenset({"GPE"})
    if VALUE_WORDS & set(question.terms):  # a price is a sum or a share, not the tonnes it is paid for
        return frozenset({"MONEY", "PERCENT"})
    if question.wh == "how" and question.focus == "much":
        return frozenset({"MONEY", "QUANTITY", "PERCENT"})
    if question.wh == "how" and question.focus == "many":
        return frozenset({"CARDINAL"})
    if question.wh == "when":  # the day: "at midnight on Wednesday" ends on Wednesday
        return frozenset({"DATE"})
    return frozenset()


_NONE = re.compile(r"\b(?:(no)\s+([a-z]+)|(none)\s+of\s+((?:[\w'’-]+\s+){0,3}[\w'’-]+))", re.IGNORECASE)


def _none_of(sentence: SentenceAnalysis, text: str, said_of: set[str]) -> list[Span]:
    """A count of none the text gives of what the question asks about: "No deaths" ("No deaths were reported"
    for "How many people died?"), "None" ("None of the original treaties mention…")."""
    found = []
    for m in _NONE.finditer(text, sentence.start, sentence.end):
        words = m.group(2) or m.group(4)
        if said_of & {stem(w.lower()) for w in _WORD.findall(words)}:
            found.append(Span(m.start(), m.end(2), "CARDINAL") if m.group(1) else Span(m.start(3), m.end(3),
                                                                                         "CARDINAL"))
    return found


def _ends(words: list[str]) -> set[str]:
    """The first and the last word, without a plural's "s": where a name says what it is ("River Tamsel",
    "Teskaran National Museum")."""
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words[:1] + words[-1:]}


def _spans_of_type(sentence: SentenceAnalysis, text: str, types: frozenset[str] | None, focus: str,
                   lead: bool) -> list[Span]:
    """Entities of the asked types; else noun phrases headed by the question's focus noun ("what kind of
    relations" -> "friendly relations"); else, in the lead sentence only, any entity or noun phrase."""
    if types is not None:
        spans = [e for e in sentence.entities if e.label in types and (e.label not in ANY_NAME or (
            _cased(text, e) and not _era(sentence, text, e)))]
        if "CARDINAL" in types:  # the small model may type a figure as a name: "c. 1,300,000" as NORP
            spans += [Span(e.start, e.end, "CARDINAL") for e in sentence.entities
                      if e.label in ANY_NAME and _A_FIGURE.fullmatch(text, e.start, e.end)]
        if types & TIMES:  # and may take a date for an event: "on 9 September in Halvik"
            spans += [Span(e.start, e.end, "DATE") for e in sentence.entities
                      if e.label not in TIMES and _A_DATE.fullmatch(text, e.start, e.end)]
            spans = [_whole_date(text, e) if e.label in TIMES else e for e in spans]
        if types & PLACES:  # the small model takes a city it does not know for a firm or a person; "in" tells
            spans += [Span(e.start, e.end, "GPE") for e in sentence.entities  # it is a place, as does a place
                      if e.label in ANY_NAME - PLACES - {"NORP"}  # said to hold it ("Merrowick, in northern Lunaria")
                      and (_locative(text, e, also_at=False) or _within_place(sentence, text, e))]
        return spans
    phrases = _phrases(sentence, text)
    headed = [c for c in phrases if c.label == focus]
    # a phrase opening with a quantifier names a class or nothing, not the thing asked for; what it lists may be
    specific = [p for p in phrases if not _GENERIC.match(text, p.start, p.end)]
    spans = _phrases_and_names(sentence, phrases)
    # a name that says what it is: "the River Tamsel" is a river; not "the Panel on Climate Change" for "what type
    # of climate"
    named = [Span(e.start, e.end, focus) for e in sentence.entities if focus and e.label in ANY_NAME
             and focus in _ends(_WORD.findall(_strip_determiners(text[e.start:e.end].lower())))]
    return [*(c for c in specific if c.label == focus), *named, *_names_beside(sentence, text, headed, spans),
            *_complements(sentence, text, spans, headed), *_instances(sentence, text, spans, headed)] \
        or ([*sentence.entities, *specific] if lead else [])


_UNIT = re.compile(r"\s+([a-z]+)\b(?![-'’])")
# a sum the small model takes for a bare number: "2.8 million thalers", "240 mln dlrs"
_CURRENCY = re.compile(r"\s+(?:dollars?|dlrs?|euros?|pounds?|stg|sterling|yen|yuan|renminbi|rupees?|francs?|crowns?|"
                       r"kron(?:a|e|or|er)|zloty|forints?|koruna|lira|lire|pesos?|reais|real|rand|roubles?|rubles?|won|"
                       r"dinars?|dirhams?|riyals?|rials?|shekels?|baht|ringgit|rupiah|dong|naira|shillings?|cedis?|"
                       r"florins?|guilders?|marks?|thalers?|ducats?|levs?|lei|hryvnias?|tenge|taka|pence|cents?|cts)\b",
                       re.IGNORECASE)


def _with_unit(span: Span, text: str, asked: set[str]) -> Span:
    """An amount with the unit the small model leaves out of it: the lower-case words right after it, up to two,
    that are neither function words, adverbs, nor the question's ("2.8 million thalers", "240 mln dlrs", "120 pct"
    in "a 120 pct pay rise" for "What pay rise…?")."""
    end = span.end
    for _ in range(2):
        word = _UNIT.match(text, end)
        if word is None or word.group(1) in STOP_WORDS or word.group(1).endswith(("ly", "ing")) \
                or stem(word.group(1)) in asked:
            break
        end = word.end()
    return span if end == span.end else Span(span.start, end, span.label)


_SCALE = re.compile(r"\s+(?:hundred|thousand|million|billion|trillion|mln|bln|mn|bn|m|k|pct|percent|per\s+cent)\b",
                    re.IGNORECASE)


def _measured(text: str, span: Span, with_unit: Span) -> bool:
    """A number followed by a unit that is neither money nor a scale ("62,000 hectares", "5 million people"): it
    measures or counts something, it is no sum ("2.8 million thalers", "240 mln dlrs", "12 pct" may be)."""
    scale = _SCALE.match(text, span.end)
    if scale is not None and scale.group().strip().lower().startswith(("pct", "per")):
        return False  # a share: "a 12 pct rise" for "What pay rise…?"
    after = scale.end() if scale else span.end
    return after < with_unit.end and not _CURRENCY.match(text, after)


def _era(sentence: SentenceAnalysis, text: str, span: Span) -> bool:
    """Two or three capitals after a figure in the same phrase: its era or time zone ("the 4th century BC",
    "1330 GMT"), which the small model may take for a firm."""
    return bool(re.fullmatch(r"[A-Z]{2,3}", text[span.start:span.end])) and (
        bool(re.search(r"\d\s+$", text[max(0, span.start - 8):span.start]))
        or any(c.start < span.start and span.end <= c.end and re.search(r"\d", text[c.start:span.start])
               for c in sentence.chunks))


def _cased(text: str, span: Span) -> bool:
    """Written as a name: a capital letter in it, or a script without case; not "cts", which the small model
    may take for a firm."""
    words = text[span.start:span.end]
    return any(c.isupper() for c in words) or not any(c.islower() for c in words)


_PART_OF = re.compile(r"\s+of\s+(?:the\s+|its\s+|their\s+)?(?:then\s+)?(?:\d|(?:two|three|four|five|six|seven|"
                      r"eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)\b)", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_A_DATE = re.compile(rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?)(?:,?\s+\d{{4}})?",
                     re.IGNORECASE)  # "9 September", "Sept. 9, 2024"
_DAY_BEFORE = re.compile(r"\d{1,2}(?:st|nd|rd|th)?\s+$")


def _whole_date(text: str, span: Span) -> Span:
    """The date with the day the small model left out before it ("3 May 2024", typed "May 2024")."""
    day = _DAY_BEFORE.search(text, max(0, span.start - 6), span.start)
    if day is None or not _A_DATE.fullmatch(text, day.start(), span.end):
        return span
    return Span(day.start(), span.end, span.label)


_A_FIGURE = re.compile(r"(?:[a-z]{1,3}\.\s*)?\d[\d,.]*")  # "1,300,000", "c. 1,300,000"


# a phrase opening with a quantifier: "several algorithms", "no such planet", "whose period"
_GENERIC = re.compile(r"(?:no|such|several|some|many|other|another|whose|any|each|every|various|all|both|these|"
                      r"those)\b", re.IGNORECASE)
_SUCH_AS = re.compile(r"\s*,?\s*(?:such\s+as|including|like|namely|e\.g\.,?|\()\s*", re.IGNORECASE)
_LIST_END = re.compile(r"[;:)]|\.(?:\s|$)|\s[-–—]\s")


def _instances(sentence: SentenceAnalysis, text: str, spans: list[Span], headed: list[Span]) -> list[Span]:
    """The things listed after a phrase headed by the asked noun: "Nordwave", "Baltic Crest" in "Several
    shipping lines, such as Nordwave and Baltic Crest" for "What shipping line…?" (_lists joins them for "What
    shipping lines…?"). Labelled as that phrase. spans: the sentence's phrases and names (_phrases_and_names)."""
    found = []
    for phrase in headed:
        marker = _SUCH_AS.match(text, phrase.end, sentence.end)
        if marker is None:
            continue
        end = _LIST_END.search(text, marker.end(), sentence.end)
        end = end.start() if end else sentence.end
        found.extend(Span(s.start, s.end, phrase.label) for s in spans if marker.end() <= s.start and s.end <= end)
    return found


def _lists(spans: list[Span], text: str) -> list[Span]:
    """Runs of two or more spans of one label joined by commas, "and", "or": what a plural question asks for
    ("Switzerland and the Netherlands"; "carrots, turnips, …, and cotton", listed after "Eastern crops such as"
    and labelled as that phrase by _instances)."""
    found, run = [], []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if run and span.start >= run[-1].end and span.label == run[0].label \
                and _JOINED.fullmatch(text, run[-1].end, span.start):
            run.append(span)
            continue
        if run and span.start < run[-1].end:
            continue  # inside the last one
        if len(run) > 1:
            found.append(Span(run[0].start, run[-1].end, run[0].label))
        run = [span]
    if len(run) > 1:
        found.append(Span(run[0].start, run[-1].end, run[0].label))
    return found


_JOINED = re.compile(r"\s*(?:,\s*(?:(?:and|or)\s+)?|\s(?:and|or)\s+)")


_BESIDE = re.compile(r"\s*[,(]?\s*")


def _names_beside(sentence: SentenceAnalysis, text: str, phrases: list[Span], spans: list[Span]) -> list[Span]:
    """The names set right beside these phrases, or ending them, which name what the phrase describes: "the
    nation's oldest film society Doc Films", "Chicago Pile-1 (the first man-made nuclear reaction)"; or a noun
    phrase ending in a capitalized word set after one by a comma ("its major tributary, the river Aare", where
    the small model finds no name). Labelled as the phrase. spans: the sentence's phrases and names
    (_phrases_and_names)."""
    names = [e for e in sentence.entities if e.label in ANY_NAME]
    found = []
    for phrase in phrases:
        for name in names:
            if (name.start >= phrase.end and _BESIDE.fullmatch(text, phrase.end, name.start)) \
                    or (name.end <= phrase.start and _BESIDE.fullmatch(text, name.end, phrase.start)) \
                    or (phrase.start < name.start and name.end == phrase.end):
                found.append(Span(name.start, name.end, phrase.label))
        found.extend(Span(s.start, s.end, phrase.label) for s in spans
                     if s.start > phrase.end and _apposed(text, phrase, s)
                     and text[s.start:s.end].split()[-1][:1].isupper())  # "the river Aare"
    return found


_COPULA = r"(?:is|are|was|were|became|becomes|become|remains|remained)\s+(?:\w+ly\s+)?"
# after the phrase: what qualifies it ("to leave the harbour", ", built in 1871,"), "is", and how it is called
_COPULA_AFTER = re.compile(r"(?:\s+(?:to|that|which|who|in|at|on|from|for)\b[^,;.]{1,60}?|\s*,[^,;.]{1,60},)?\s*"
                           + _COPULA + r"(?:(?:called|named|known\s+as|considered|regarded\s+as)\s+)?(?:one\s+of\s+)?",
                           re.IGNORECASE)
_COPULA_BEFORE = re.compile(r"\s*,?\s*" + _COPULA, re.IGNORECASE)


def _complements(sentence: SentenceAnalysis, text: str, spans: list[Span], headed: list[Span]) -> list[Span]:
    """What the text says a phrase headed by the asked noun is: the phrase on the other side of its "is" ("The
    first ship to leave the harbour was the Maren Star", "the customs house is the oldest building"), for "What
    was the first ship…?", "What is the oldest building…?". spans: the sentence's phrases and names."""
    found = []
    for phrase in headed:
        after = _COPULA_AFTER.match(text, phrase.end, sentence.end)
        if after is not None:
            found.extend(s for s in spans if s.start == after.end())
        found.extend(s for s in spans if s.end <= phrase.start and _COPULA_BEFORE.fullmatch(text, s.end, phrase.start))
    return found


def _phrases_and_names(sentence: SentenceAnalysis, phrases: list[Span]) -> list[Span]:
    """The sentence's noun phrases and names, in order (a longer one first where two start together)."""
    return sorted({*phrases, *(e for e in sentence.entities if e.label in ANY_NAME)}, key=lambda s: (s.start, -s.end))


_IN = re.compile(r"\bin\s+(?:the\s+)?$", re.IGNORECASE)
_IN_OR_AT = re.compile(r"\b(?:in|at)\s+(?:the\s+)?$", re.IGNORECASE)


def _locative(text: str, span: Span, also_at: bool = True) -> bool:
    """The span stands where the place of events does: after "in" (or "at") ("the talks held in Ulaanbaatar"),
    not as a party ("between North Korea and Mongolia") or a destination ("a mission to Mongolia")."""
    return bool((_IN_OR_AT if also_at else _IN).search(text, max(0, span.start - 12), span.start))


_WITHIN = re.compile(r"\s*,\s*(?:in|near)\s+(?:the\s+)?(?:[a-z]+\s+)?")  # ", in northern", ", near the"


def _within_place(sentence: SentenceAnalysis, text: str, span: Span) -> bool:
    """A place follows the span as the place it lies in or near ("Merrowick, in northern Lunaria")."""
    return any(e.label in PLACES and e.start > span.end and _WITHIN.fullmatch(text, span.end, e.start)
               for e in sentence.entities)


def _placed(sentence: SentenceAnalysis, span: Span, asked: set[str]) -> bool:
    """The place follows "in" or "at" right after one of the question's words: the text puts what the question
    asks about there ("the meeting in Ulaanbaatar", "held in Ulaanbaatar" for "Where did they meet?", "Where were
    the talks held?")."""
    before = [(term, start) for term, start in zip(sentence.terms, sentence.term_starts) if start < span.start]
    return bool(before) and stem(before[-1][0]) in asked and span.start - before[-1][1] <= 25


def _chunks_naming(sentence: SentenceAnalysis, names: set[str]) -> list[Span]:
    """The sentence's noun chunks that hold one of the question's names."""
    return _holding(sentence.chunks, _name_starts(sentence, names))


def _name_starts(sentence: SentenceAnalysis, names: set[str]) -> list[int]:
    """Where the sentence's words that are one of the question's names start."""
    return [start for lemma, start in zip(sentence.terms, sentence.term_starts) if stem(lemma) in names]


def _holding(spans: Sequence[Span], starts: list[int]) -> list[Span]:
    return [s for s in spans if any(s.start <= start < s.end for start in starts)]


_POSSESSIVE = re.compile(r"['’]s?\s*$|^\s*['’]s\b")


def _possessive(text: str, span: Span) -> bool:
    return bool(_POSSESSIVE.search(text[span.start:span.end]) or _POSSESSIVE.search(text[span.end:span.end + 3]))


SIDE_WEIGHT = 0.15
LIST_WEIGHT = 0.15  # a plural question asks for several things: "North Korea and Mongolia", not "Ulaanbaatar"
LOCATIVE_WEIGHT = 0.1
REGIONS = frozenset("country nation region province state county continent".split())  # hold the towns named
# the least relevance of the sentence placing what is asked about (_placed) for its place to answer: lower than
# min_score, as the sentence may say it in other words ("This meeting in Ulaanbaatar…"); 0.15 and 0.2 answer the
# same questions of the four evaluation sets
PLACED_MIN_SCORE = 0.2
_PLANNED_BEFORE = re.compile(r"\b(?:will|shall|(?:is|are)\s+(?:scheduled|due|expected|set|planning|going)\s+to|"
                             r"plans?\s+to|intends?\s+to|(?:is|are)\s+to)\s+(?:\w+ly\s+)?$", re.IGNORECASE)
_PLANNED_QUESTION = re.compile(r"\b(?:will|shall|(?:is|are)\s+(?:\S+\s+){0,6}?(?:scheduled|due|expected|set|planned|"
                               r"going)\s+to)\b")  # "When is the Kaldor strike set to end?"
_PARTICIPLE = re.compile(r"\w+(?:ed|en)\b")
_BY = re.compile(r"\s+by\b")
_REDUCED_BEFORE = re.compile(r",\s*$")  # "static friction, generated between…": a participle after a comma
_PASSIVE_BEFORE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?$", re.IGNORECASE)


def _answer_side(question: QuestionAnalysis, sentence: SentenceAnalysis, text: str) -> tuple[int, str] | None:
    """Where the answer stands in the sentence relative to the question's verb: before it when the question
    asks for its subject ("What drives down wages?" -> "Competition ... tends to drive down wages"), after it
    for its object; a passive question's subject is the object of an active sentence ("What was developed?"
    -> "Baran developed the concept"), and a passive sentence names the doer after the verb. (offset of the
    verb, "before" or "after"); None when the sentence does not use the verb, or uses it for what is planned
    while the question asks about what was done."""
    if not question.asked_role:
        return None
    verb = stem(question.asked_verb)
    at = next((start for lemma, start in zip(sentence.terms, sentence.term_starts) if stem(lemma) == verb), None)
    if at is None:
        return None
    if question.past and _PLANNED_BEFORE.search(text[max(sentence.start, at - 40):at]):
        return None  # "Who did Varga meet?": not "Varga is scheduled to meet students"
    participle = _PARTICIPLE.match(text, at)
    passive_sentence = bool(_PASSIVE_BEFORE.search(text[max(sentence.start, at - 40):at])) or (
        participle is not None and (bool(_REDUCED_BEFORE.search(text, max(sentence.start, at - 3), at))
                                    or bool(_BY.match(text, participle.end()))))  # "conferences hosted by Mongolia"
    # the doer stands before an active verb and after a passive one ("was challenged by X"); the thing done
    # to, the other way round
    return at, "after" if (question.asked_role == "subject") == passive_sentence else "before"


def _without_possessed(text: str, span: Span, possessed: str) -> Span:
    """The span without the noun the question's possessor qualifies at its end ("the Orrin Labs board")."""
    last = re.search(r"\s+(\w+)$", text[span.start:span.end])
    if last is None or stem(last.group(1).lower()) != stem(possessed):
        return span
    return Span(span.start, span.start + last.start(), span.label)


def _possessing(text: str, span: Span, possessed: str) -> bool:
    """The span is whose the noun is: "Orrin Labs's board", "Orrin Labs board", "the board of Orrin Labs"."""
    after = re.match(r"(?:['’]s?)?\s+(\w+)", text[span.end:span.end + 40])
    before = re.search(r"(\w+)\s+of\s+(?:the\s+)?$", text[max(0, span.start - 40):span.start])
    return any(m is not None and stem(m.group(1).lower()) == stem(possessed) for m in (after, before))


def _name_ending(sentence: SentenceAnalysis, phrase: Span) -> Span:
    """The name a phrase ends with, which answers who ("Sam Bankman-Fried" of "Former FTX CEO Sam
    Bankman-Fried"); else the phrase."""
    return next((e for e in sentence.entities if e.label in ("PERSON", "ORG") and e.end == phrase.end
                 and phrase.start <= e.start), phrase)


_VERB_AFTER = re.compile(r"\w*\s+(?:by\s+)?")  # "enforced by the courts", "commemorates the children"
_VERB_BEFORE = re.compile(r"\s+(?:(?:can|could|will|would|may|might|must|shall|should|do|does|did|has|have|had|is|"
                          r"are|was|were|be|been|also|not|\w+ly)\s+){0,3}")  # "the courts can also enforce"


def _beside_verb(phrases: list[Span], text: str, side: tuple[int, str]) -> list[Span]:
    """The noun phrase right beside the question's verb on the side its answer stands (_answer_side): who did it
    or to whom, when the text says so with a common noun ("commemorates the children", "enforced by the courts
    of member states") rather than a name."""
    at, where = side
    for phrase in phrases:
        if where == "after" and phrase.start > at and _VERB_AFTER.fullmatch(text, at, phrase.start):
            return [phrase]
        if where == "before" and phrase.end <= at and _VERB_BEFORE.fullmatch(text, phrase.end, at):
            return [phrase]
    return []


APPOSITION = "APPOSITION"  # the label of a candidate that is a phrase set beside a name
NAMED = "NAMED"  # the label of a candidate that follows "called", "named", "known as"…
NAMING = frozenset(map(stem, "name call brand rebrand rename dub title term".split()))
_NAMED_BEFORE = re.compile(r"\b(?:(?:call|nam|brand|rebrand|renam|dubb|titl|term)ed(?:\s+as)?|known\s+as)\s+[\"“‘']?$",
                           re.IGNORECASE)
_NAME_WORD = re.compile(r"\bnames?\b", re.IGNORECASE)


def asks_for_a_name(question: QuestionAnalysis) -> bool:
    """ "What did BSkyB name its service?", "What is the plant called?", "What is the name of the society?"
    (not "Who was named chief executive?": a person)."""
    return question.wh in ("what", "which") and (
        stem(question.root) in NAMING or bool(_NAME_WORD.search(question.own_text or question.text)))


QUALITY = "QUALITY"  # the label of the words that qualify a noun of the question
# the least cosine between a qualifying word and the question's adjective (all-MiniLM-L6-v2): "important" and
# "pivotal" 0.38, "unusual" and "rare" 0.66, "serious" and "severe" 0.46, "damaging" and "costly" 0.38; "rare" and
# "direct" 0.26, "diplomatic" 0.21, "global" 0.27
SAME_SCALE = 0.33
_WORD = re.compile(r"[\w'’-]+")


def _qualities(sentence: SentenceAnalysis, text: str, asked: set[str]) -> list[Span]:
    """What the text says a thing the question names is like: the words before the head of a noun phrase headed
    by one of its nouns, from the first that is neither a determiner nor a quantifier up to one the question says
    ("pivotal" in "pivotal talks" for "How important were the talks?", "rare" in "This rare diplomatic
    engagement" for "How unusual was this diplomatic engagement?")."""
    found = []
    for chunk in sentence.chunks:
        if stem(chunk.label) not in asked:
            continue
        words = list(_WORD.finditer(text, chunk.start, chunk.end))[:-1]  # without the head noun
        first = next((i for i, w in enumerate(words) if _qualifier(w.group())), None)
        if first is None or stem(words[first].group()) in asked:
            continue
        last = first
        while last + 1 < len(words) and _qualifier(words[last + 1].group()) \
                and stem(words[last + 1].group()) not in asked:
            last += 1
        found.append(Span(words[first].start(), words[last].end(), QUALITY))
    return found


def _qualifier(word: str) -> bool:
    """A lower-case word that may say what a thing is like: no name, determiner or quantifier."""
    return word.islower() and not _DETERMINERS.match(word + " ") and not _GENERIC.fullmatch(word)


REASON = "REASON"  # the label of a candidate that gives a reason or a purpose
PURPOSE = "PURPOSE"  # the label of a purpose said by "to" and a verb alone
_REASON_BEFORE = re.compile(r"\b(?:because(?:\s+of)?|due\s+to|owing\s+to|as\s+a\s+result\s+of|thanks\s+to|"
                            r"on\s+account\s+of|in\s+order\s+to|so\s+as\s+to|so\s+that|for(?=\s+fear\s+of)|"
                            r"in\s+response\s+to|aimed\s+at|in\s+an?\s+(?:bid|effort|attempt)\s+to|"
                            r"with\s+the\s+aim\s+of|(?:designed|intended)\s+to|"
                            r"(?:is|are|was|were|been)\s+(?:owed|attributed|put\s+down)\s+to|"
                            r"(?:is|are|was|were|been)\s+blamed\s+on|,\s+(?:saying|citing)(?:\s+that)?|"
                            r"(?:caused|triggered|sparked|prompted|driven|fu?elled|brought\s+on)\s+by|"
                            r"(?:strikes?|protests?|disputes?|rows?|clash(?:es)?|walkouts?|"
                            r"anger|outrage|concerns?|fears?|lawsuits?|boycotts?)\s+over)\s+", re.IGNORECASE)
# "a three-day strike over pay": what a conflict is over is its cause; "the order was aimed at preventing…": its
# purpose
_CLAUSE_END = re.compile(r"[,;:()]|\.(?:\s|$)|\s[-–—]\s")


def _reasons(sentence: SentenceAnalysis, text: str, causes: bool = True) -> list[Span]:
    """What follows "because", "due to", "in order to", "citing"… up to the end of its clause: the reason or purpose
    a why-question asks for; in a sentence without these, what follows "to" and a verb ("dredged the channel to
    let larger ships enter", "To cut its costs, the company…"), a purpose (PURPOSE) when it stands beside what
    the question asks about (MIN_PURPOSE_CLOSENESS), and, unless causes is false, the event "after" or
    "following" says came first."""
    found = []
    for marker in _REASON_BEFORE.finditer(text, sentence.start, sentence.end):
        end = _CLAUSE_END.search(text, marker.end(), sentence.end)
        found.append(Span(marker.end(), end.start() if end else sentence.end, REASON))
    if found:
        return found
    chunk_starts = {c.start for c in sentence.chunks} | {e.start for e in sentence.entities}
    for marker in _TO.finditer(text, sentence.start, sentence.end):  # a purpose said by "to" and a verb: "emptied
        # before winter to clean them"
        if marker.end() not in chunk_starts:  # "to clean", not "to the harbour"
            end = _CLAUSE_END.search(text, marker.end(), sentence.end)
            found.append(Span(marker.start() if marker.start() == sentence.start else marker.end(),
                              end.start() if end else sentence.end, PURPOSE))
    if causes:  # what happened first, said of an event, not a time: "evacuated after the river burst its banks",
        # "burst its banks following two days of torrential rain"; not when a purpose is asked for
        times = {e.start for e in sentence.entities if e.label in TIMES and not text.startswith(" of ", e.end)}
        markers = [m for m in _AFTER_EVENT.finditer(text, sentence.start, sentence.end) if m.end() not in times]
        for marker, following in zip(markers, [*markers[1:], None]):  # "after X following Y": X, then Y
            end = _CLAUSE_END.search(text, marker.end(), sentence.end)
            found.append(Span(marker.end(), min(end.start() if end else sentence.end,
                                                following.start() if following else sentence.end), REASON))
    return found


_AFTER_EVENT = re.compile(r"\b(?:after|following|in\s+the\s+wake\s+of)\s+(?![\d(])", re.IGNORECASE)  # not "after 10
# years" (nor "after two days": a time the model tags)
MIN_PURPOSE_CLOSENESS = 0.1  # on the squad2-500 dev set 0.05 and 0.1 keep the same purposes, 0.2 drops some
_TO = re.compile(r"\bto\s+(?=[a-z])", re.IGNORECASE)


def _explained(sentence: SentenceAnalysis, text: str, span: Span) -> str:
    """For a reason: on which side of it what it explains stands; after it when the sentence opens with it
    ("Because of the strike, the plant closed"), else before it ("The plant closed because of the strike")."""
    if span.label not in (REASON, PURPOSE):
        return ""
    opening = _REASON_BEFORE.match(text, sentence.start)
    return "after" if span.start == sentence.start or (opening and opening.end() == span.start) else "before"


UNDERGONE = "UNDERGONE"  # the label of what the text says happened to a thing
_HAPPENED_TO = re.compile(r"\bhappen(?:s|ed)?\s+to\s+(.+?)(?:\s+(?:in|during|between|after|before|at|on|as|when|"
                          r"while|from|by|since|under)\b|[?.]|$)")
_UNDERGONE_AFTER = re.compile(r"\w*\s+(?:(?:has|have|had|is|are|was|were|been|being|be)\s+)*(?:\w+ly\s+)?"
                              r"(\w+(?:ed|en)\b(?:\s+\w+ly\b)?)")


def _undergoing(question: str) -> set[str]:
    """The words (stemmed) of what "What happened to X?" asks about, lower case: "rate", "flow" in "What happened
    to the rate of flow in the Rhine during…?"; empty for other questions."""
    match = _HAPPENED_TO.search(question)
    return {stem(w) for w in re.findall(r"\w+", match.group(1))} - _FUNCTION_WORDS if match else set()


def _undergone(sentence: SentenceAnalysis, text: str, undergoing: set[str]) -> list[Span]:
    """What the sentence says happened to the thing asked about: the verb (and its adverb) right after one of its
    words, past auxiliaries ("The rate of flow was increased", "deforestation has declined significantly", "the
    waste heat being removed")."""
    return [Span(m.start(1), m.end(1), UNDERGONE) for lemma, start in zip(sentence.terms, sentence.term_starts)
            if stem(lemma) in undergoing and (m := _UNDERGONE_AFTER.match(text, start, sentence.end))]


ACTION = "ACTION"  # the label of a verb and its object: what is done
_DOING = re.compile(r"\b(?:to\s+do|doing)\s+what\b|\bwhat\b.*\b(?:to\s+do|doing)\b")  # "… used to do?"
_ACTION = re.compile(r"\b(?:[Tt]o\s+(?=[a-z]+\s)|(?=[a-z]+ing\s))(?!be\b|being\b|have\b|having\b|do\b|doing\b|"
                     r"(?:includ|accord|dur|concern|regard|follow|exclud|notwithstand)ing\b)")  # prepositions in -ing
_LOWER_WORD = re.compile(r"[a-z]+")


def _actions(sentence: SentenceAnalysis, text: str) -> list[Span]:
    """A verb with the noun phrase it acts on, as an infinitive or a gerund: "to plan the physical proceedings",
    "(a means of) acquiring nutrients", "(charged with) undermining the communist ideology"."""
    found = []
    for match in _ACTION.finditer(text, sentence.start, sentence.end):
        verb = _LOWER_WORD.match(text, match.end())
        chunk = next((c for c in sentence.chunks if verb.end() < c.start <= verb.end() + 1), None)  # right after it
        if chunk is not None:
            found.append(Span(match.end(), chunk.end, ACTION))
    return found


FIELD = "FIELD"  # the label of a field's value ("48 million dollars" of "Box office: 48 million dollars")
_FIELD_LINE = re.compile(r"([^\W\d][\w'’ -]{0,40}?)[.:]\s+(\S.*?)[.\s]*")


def _field_value(sentence: SentenceAnalysis, text: str, asked: set[str]) -> list[Span]:
    """The value of a field the question names: "48 million dollars" of "Box office: 48 million dollars" for
    "What is the box office of Harbour Lights?"."""
    line = _FIELD_LINE.fullmatch(text, sentence.start, sentence.end)
    if line is None:
        return []
    name = {stem(w.lower()) for w in _WORDS.findall(line.group(1))} - _FUNCTION_WORDS
    return [Span(line.start(2), line.end(2), FIELD)] if name and name <= asked else []


_COMPARED = re.compile(r"(?<![\w,.])([A-Z][a-z]*\.?(?:\s+[a-z]+\.?){0,2})\s+((?:\d[\d,.]*|[a-z]+)(?:\s+(?:mln|bln|"
                       r"billion|million|dlrs|cts|pct|stg))*)\s+vs\.?\s")


def _compared(sentence: SentenceAnalysis, text: str, said_of: set[str]) -> list[Span]:
    """The first of the two figures a line of a wire table compares, this period's ("Net 22.3 mln vs 20.4 mln",
    "Revs 11.5 mln vs 13.0 mln"), when the question names the line in its words or the lexicon's ("revenue" for
    "Revs"). Labelled as a field's value."""
    found = []
    for m in _COMPARED.finditer(text, sentence.start, sentence.end):
        if {stem(w.lower().rstrip(".")) for w in m.group(1).split()} & said_of:
            found.append(Span(m.start(2), m.end(2), FIELD))
    return found


QUOTE = "QUOTE"  # the label of words the text quotes
_QUOTED = re.compile(r"[\"“]([^\"“”]{3,}?)[,.]?[\"”]")


def _quoted(sentence: SentenceAnalysis, text: str) -> list[Span]:
    """What the sentence quotes, two words or more: what someone said ("This line turns Halvik into Serevia's
    gateway to the sea")."""
    return [Span(m.start(1), m.end(1), QUOTE) for m in _QUOTED.finditer(text, sentence.start, sentence.end)
            if len(m.group(1).split()) >= 2]


def _a_name(candidate: "Candidate") -> bool:
    """A name: words beginning with an entity the model found ("Reel Society", "the United States border"), what
    follows "called", "named"…, or words the text quotes; not a phrase that only holds a name further on ("the
    site of Harlow Pile-1", "upcoming international conferences")."""
    span = candidate.span
    return (span.label == NAMED or candidate.text[:1] in "\"“‘'" or any(
        e.label in ANY_NAME and e.start <= span.start < e.end for e in candidate.sentence.analysis.entities))


def _named(sentence: SentenceAnalysis, text: str, phrases: list[Span]) -> list[Span]:
    """The names and noun phrases the sentence gives after "called", "named", "branded", "known as"…"""
    return [Span(s.start, s.end, NAMED) for s in (*sentence.entities, *phrases)
            if _NAMED_BEFORE.search(text, max(sentence.start, s.start - 20), s.start)]


_COMMA = re.compile(r"\s*,\s*")
_OF = re.compile(r"\s+of\s+")


_AS_BEFORE = re.compile(r"\bas\s+$")


def _cast_as(sentence: SentenceAnalysis, text: str, phrases: list[Span], names: set[str]) -> list[Span]:
    """What the text casts one of the question's names as, after it in the sentence with no other name between:
    "Mongolia's unique position as a neutral ground and a mediator", "positions it as a potentially strategic
    partner" for "How is Mongolia described?"."""
    anchors = _name_anchors(sentence, names)
    if not anchors:
        return []
    anchor, names_at = anchors[0], [e for e in sentence.entities if e.label in ANY_NAME]
    cast = [p for p in phrases if anchor.end <= p.start and _AS_BEFORE.search(text, max(anchor.end, p.start - 4),
                                                                               p.start)
            and not any(anchor.end <= e.start and e.end <= p.end for e in names_at)]
    starts = {p.start: p for p in phrases}
    found = []
    for phrase in cast:  # "as a neutral ground and a mediator": both
        joined = _AND.match(text, phrase.end)
        other = starts.get(joined.end()) if joined else None
        found.append(Span(phrase.start, other.end if other else phrase.end, APPOSITION))
    return found


_AND = re.compile(r"\s+and\s+")


def _name_anchors(sentence: SentenceAnalysis, names: set[str]) -> list[Span]:
    """Where the sentence names one of the question's names: the names that end their phrase (not "North Korea's"
    in "North Korea's minister"), else the noun chunks holding them."""
    ends = {c.end for c in sentence.chunks}
    starts = _name_starts(sentence, names)
    return _holding([e for e in sentence.entities if e.label in ANY_NAME and e.end in ends], starts) \
        or _holding(sentence.chunks, starts)


def _appositives(sentence: SentenceAnalysis, text: str, phrases: list[Span], names: set[str]) -> list[Span]:
    """The noun phrases set beside one of the question's names by a comma, what the text calls it: "his
    counterpart, Amartuvshin Gombosuren"; "Varga, the minister of trade, said"; and the title before the name in
    its own phrase ("Mayor Clara Ventis"). A phrase is a noun chunk with the chunks "of" joins to it; a phrase
    that is itself a name is another item of a list, not one."""
    anchors = _name_anchors(sentence, names)
    names_at = [e for e in sentence.entities if e.label in ANY_NAME]
    found = []
    for phrase in phrases:
        if any(e.start <= phrase.start and phrase.end <= e.end for e in names_at) or \
                any(a.start <= phrase.start < a.end or phrase.start <= a.start < phrase.end for a in anchors):
            continue
        for anchor in anchors:
            before = phrase.end <= anchor.start and _apposed(text, phrase, anchor)
            after = anchor.end <= phrase.start and _apposed(text, anchor, phrase) \
                and (phrase.end >= sentence.end or text[phrase.end:phrase.end + 1] in ",;.)")
            if before or after:
                found.append(Span(phrase.start, phrase.end, APPOSITION))
                break
    for anchor in anchors:  # the title the name's own phrase gives it: "Mayor Clara Ventis", "union leader X"
        for chunk in sentence.chunks:
            title = _strip_determiners(text[chunk.start:anchor.start])
            if chunk.start < anchor.start and chunk.end == anchor.end and title \
                    and not any(e.start <= chunk.start and anchor.start <= e.end for e in names_at):
                start = chunk.start + text[chunk.start:anchor.start].find(title)
                found.append(Span(start, start + len(title), APPOSITION))
    return found


def _apposed(text: str, a: Span, b: Span) -> bool:
    """a and b stand side by side with a comma between them: "his counterpart, Amartuvshin Gombosuren"."""
    first, second = (a, b) if a.end <= b.start else (b, a)
    return first.end <= second.start and bool(_COMMA.fullmatch(text, first.end, second.start))


AFFILIATION = frozenset(map(stem, "represent belong serve work come hail play speak".split()))  # for, from
AFFILIATION_POOL = 30  # the best sentences searched for where the text names the person asked about


def asks_affiliation(question: QuestionAnalysis) -> bool:
    """Whom someone stands for, where someone is from: "Which country does Gombosuren represent?", "Who
    represented North Korea?", "Where is Gombosuren from?"."""
    return asks_origin(question) or stem(question.asked_verb or question.root) in AFFILIATION


_ASIDE = re.compile(r",\s+((?:the|a|an|his|her|its|their)\s|[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*)*['’]s\s)[^,;()]{1,80},")


def _in_parenthesis(sentence: SentenceAnalysis, text: str, span: Span) -> bool:
    """The span stands inside an aside that describes the person named just before it ("Caroline Ellison, the
    former chief executive of Alameda Research, testified"; "Mila Serrat, Ravel's former finance director,")."""
    for e in sentence.entities:
        aside = _ASIDE.match(text, e.end) if e.label == "PERSON" and e.end <= span.start else None
        if aside is not None and aside.start(1) <= span.start and span.end < aside.end():
            return True
    return False


def _describing(text: str, phrases: list[Span], span: Span) -> list[Span]:
    """The phrases that say who or what a name is: set beside it by a comma ("his counterpart, Gombosuren"), or
    holding it ("Mongolian minister Gombosuren")."""
    return [p for p in phrases if _apposed(text, p, span) or (p.start <= span.start and span.end <= p.end)]


def _called(text: str, phrases: list[Span], span: Span, title: set[str]) -> bool:
    """The text gives the person this title (its words' stems, a rank as in _RANKS): in a phrase set beside the
    name or holding it, or in the one right before it ("North Korea's Vice-Minister of Foreign Affairs, Pak Myong
    Ho", "Vice-Minister Pak"; not "Foreign Minister Kellan" for a vice-minister)."""
    near = [*_describing(text, phrases, span), *(p for p in phrases if p.end <= span.start
                                                  and not text[p.end:span.start].strip())]
    words = {_RANKS.get(w.lower(), stem(w.lower())) for p in near
             for w in re.findall(r"[^\W\d_]+", text[p.start:min(p.end, span.start)] if p.start < span.start
                                 else text[p.start:p.end])}
    return title <= words


def _inside(span: Span, phrases: list[Span]) -> bool:
    return any(p.start <= span.start and span.end <= p.end for p in phrases)


def _inside_any(phrases: list[Span], holders: list[Span]) -> bool:
    """Some phrase overlaps one of the holders ("North Korea's Vice-Minister" and its chunk "North Korea's")."""
    return any(p.start < h.end and h.start < p.end for p in phrases for h in holders)


def _apposed_to_subject(text: str, span: Span, naming_subject: list[Span]) -> bool:
    """The span is a name set by a comma beside a phrase naming the question's subject: it is that subject, not
    what the question asks about it ("North Korea's Vice-Minister of Foreign Affairs, Pak Myong Ho" for "Which
    official did North Korea's deputy foreign minister meet?")."""
    return span.label in ANY_NAME and any(
        not (p.start < span.end and span.start < p.end) and _apposed(text, p, span) for p in naming_subject)


def _past_asked_head(span: Span, text: str, asked: set[str]) -> Span:
    """ "Fort Caroline" of "the small colony of Fort Caroline" for "What was the name of the colony?": what
    follows "of" when the noun before it is the question's (not "of" inside a list: "carrots, new varieties of
    lemons, and cotton" for "What crops…?")."""
    match = _OF.search(text, span.start, span.end)
    before = re.findall(r"\w+", text[span.start:match.start()]) if match is not None else []
    if not before or stem(before[-1].lower()) not in asked:
        return span
    if all(w[:1].isupper() for w in _strip_determiners(text[span.start:match.start()]).split()):
        return span  # a name: "the Court of Justice" for "Which court…?"
    return Span(match.end(), span.end, span.label)


_PARTITIVE = frozenset("spectrum range variety number host series array set list kind type sort lot couple "
                       "handful dozen pair".split())  # "a range of topics" names topics


def _phrases(sentence: SentenceAnalysis, text: str) -> list[Span]:
    """The sentence's noun chunks, each joined with the chunks that follow it after "of" or right after it
    (the chunker may cut a hyphenated word: "Vice-" "Minister")."""
    chunks, phrases = sorted(sentence.chunks, key=lambda c: c.start), []
    for chunk in chunks:
        between = text[phrases[-1].end:chunk.start] if phrases else " "
        if not between or _OF.fullmatch(between):  # "a broad range of topics": of topics
            label = chunk.label if between and phrases[-1].label in _PARTITIVE else phrases[-1].label
            phrases[-1] = Span(phrases[-1].start, chunk.end, label)
        else:
            phrases.append(chunk)
    return phrases


def _numbers_at(sentence: SentenceAnalysis, text: str, numbers: list[str]) -> list[tuple[str, int]]:
    """Where the sentence writes each of these numbers (not inside a longer one)."""
    return [(n, m.start()) for n in numbers
            for m in _figure(n).finditer(text, sentence.start, sentence.end)]


def _closeness(sentence: SentenceAnalysis, text: str, span: Span, weights: dict[str, float], side: str = "",
               numbers_at: Sequence[tuple[str, int]] = (), aliases: dict[str, str] | None = None) -> float:
    """How near the span stands to the question's words in the sentence: each word's weight, falling off with
    its distance in characters from the span (a clause break counting as CLAUSE_DISTANCE more), over the weight
    of all the words (1: all right next to it).
    side: only the words "before" or "after" the span count. numbers_at: where the question's numbers stand,
    weighed as its words ("in 2021": the figure given for 2021, not the one for 2023). aliases: a word the
    lexicon says a question's word with -> that question word ("chief" -> "ceo")."""
    nearest: dict[str, int] = {}
    aliases = aliases or {}
    for term, start in [*((stem(lemma), start) for lemma, start in zip(sentence.terms, sentence.term_starts)),
                        *numbers_at]:
        term = term if term in weights else aliases.get(term, term)  # "chief executive" for "boss"
        if term in weights and not span.start <= start < span.end and (
                not side or (start < span.start) == (side == "before")):
            distance = span.start - start if start < span.start else start - span.end
            between = text[start:span.start] if start < span.start else text[span.end:start]
            distance += CLAUSE_DISTANCE * len(_CLAUSE_BREAK.findall(between))  # in another clause
            nearest[term] = min(distance, nearest.get(term, distance))
    total = sum(weights.values())
    return sum(weights[t] / (1.0 + d / 20.0) for t, d in nearest.items()) / total if total > 0 else 0.0


CLAUSE_DISTANCE = 20  # characters a clause break counts for: "a center in New Delhi, which opened in 2014, and a
# center in Hong Kong which opened in 2015"
_CLAUSE_BREAK = re.compile(r",\s+(?:and|but|while|whereas|which|where|when)\b|;")


def _merge_contained(candidates: list[Candidate], asked: set[str]) -> list[Candidate]:
    """A candidate inside a longer one ("November 17" in "November 17, 2019") lends it its support, unless the
    longer one adds mostly the question's own words ("the nation's oldest film society Doc Films")."""
    keep = []
    for candidate in sorted(candidates, key=lambda c: -len(c.key)):
        host = next((k for k in keep if re.search(rf"\b{re.escape(candidate.key)}\b", k.key)
                     and not _mostly_asked(k.key.replace(candidate.key, " "), asked)), None)
        if host is None:
            keep.append(candidate)
        else:
            host.passages |= candidate.passages
            host.score = max(host.score, candidate.score)
            host.tied = host.tied or candidate.tied
    return keep


_UNIT_OF_TIME = "(?:second|minute|hour|day|week|month|year|decade|century)"
_WHEN_WORDS = frozenset({"date", "day", "year", "month"})  # "What is the date of…?", "In what year…?": when
# "two years", "a three-day strike", "a week": how long
_DURATION = re.compile(rf"\b(?:{'|'.join(sorted(TIME_UNITS - {'time'}))})$|-{_UNIT_OF_TIME}$|"
                       rf"\b(?:a|one)\s+{_UNIT_OF_TIME}$", re.IGNORECASE)
SAYING = frozenset({"say", "announce", "tell", "state", "confirm", "declare", "report", "disclose", "reveal"})
_SAID_ON = re.compile(r"\b(?:said|announced|told\s+\w+|stated|confirmed|declared|reported|disclosed|revealed)"
                      r"\s+(?:on|late\s+on|early\s+on)?\s*$", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1\d{3}|20\d{2})\b")


def _after_report(words: str, date: str | None) -> bool:
    """Every year the words name is later than the year of the report (a date it gives for what is to come)."""
    years = [int(y) for y in _YEAR.findall(words)]
    return bool(date and years and _YEAR.match(date[:4])) and min(years) > int(date[:4])


def _before_report(sentence: SentenceAnalysis, text: str, date: str | None) -> bool:
    """The sentence is set in a year before the report's ("The last strike, in 2019, lasted five days" in a report
    of 2025): it tells of an earlier time."""
    if not date or not _YEAR.match(date[:4]):
        return False
    return any(years and max(years) < int(date[:4]) for e in sentence.entities if e.label == "DATE"
               for years in [[int(y) for y in _YEAR.findall(text, e.start, e.end)]])


def _mostly_asked(text: str, asked: set[str]) -> bool:
    words = {stem(w) for w in re.findall(r"\w+", text.lower())} - _FUNCTION_WORDS
    return bool(words) and 2 * len(words & asked) >= len(words)


QUESTION_WORDS = Path(__file__).resolve().parent / "lexicon" / "question_words.txt"


@functools.lru_cache(maxsize=1)
def other_words() -> dict[str, frozenset[str]]:
    """Question word -> the words an article may say it with ("run" -> "chief executive"), stemmed, from
    lexicon/question_words.txt: the small pipeline has no word vectors, and sentence embeddings miss these."""
    found: dict[str, frozenset[str]] = {}
    for line in QUESTION_WORDS.read_text(encoding="utf-8").splitlines():
        word, colon, others = line.partition(":")
        if colon and not word.lstrip().startswith("#"):
            key = " ".join(stem(w) for w in word.lower().split())  # "come out": a verb and its particle
            found[key] = found.get(key, frozenset()) | {stem(w.lower()) for w in others.split()} - {key}
    return found


def question_words(question: QuestionAnalysis) -> dict[str, frozenset[str]]:
    """The lexicon's words for this question's: a verb with its particle is looked up whole, and what the
    lexicon says it with counts for the verb ("released" for "come" in "When did the game come out?"); so is
    another phrase of several words the question writes ("in charge": director, head…, counting for "charge")."""
    found = other_words()
    more: dict[str, frozenset[str]] = {}
    for phrase in question.phrasal:
        verb, particle = map(stem, phrase.split(" ", 1))
        if f"{verb} {particle}" in found:
            more[verb] = more.get(verb, found.get(verb, frozenset())) | found[f"{verb} {particle}"]
    written = " ".join(stem(w) for w in _WORDS.findall((question.own_text or question.text).lower()))
    terms = set(map(stem, question.terms))
    for key in (k for k in found if " " in k and k.split()[-1] not in _PARTICLE_STEMS):
        if f" {key} " in f" {written} ":
            for word in set(key.split()) & terms:
                more[word] = more.get(word, found.get(word, frozenset())) | found[key]
    return {**found, **more} if more else found


_PARTICLE_STEMS = frozenset(map(stem, PARTICLES))


def said_otherwise(weights: dict[str, float], terms: frozenset[str],
                   alternatives: dict[str, frozenset[str]] | None = None) -> frozenset[str]:
    """A sentence's terms, plus the question's terms it says in other words (one way only; alternatives: the
    question's, see question_words)."""
    alternatives = other_words() if alternatives is None else alternatives
    return terms | {t for t in weights if t not in terms and not alternatives.get(t, frozenset()).isdisjoint(terms)}


def names_in(question: QuestionAnalysis, chosen: list[Sentence], passages: list[Passage], stored: list) -> bool:
    """Every name the question uses appears in the articles the answer quotes (their retrieved passages, titles
    or sources), and every number it writes in figures (numbers_in): on a large corpus some sentence about a
    neighbouring story always scores well, and only the names tell that it answers another question. A question
    about several stories ("X and Y") is answered from the articles that hold them together (see
    with_every_name)."""
    if not chosen:
        return False
    quoted = {passages[s.passage_index].article_id for s in chosen}
    words = _article_words(quoted, passages, stored) if question.name_terms else set()
    return all(_name_seen(t, words) for t in question.name_terms) and numbers_in(question, quoted, passages) \
        and _named_in_full(question, quoted, passages, stored)


_NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
_SMALL_NUMBER = re.compile(r"(?:(?:at\s+least|about|some|only|just|nearly|almost)\s+)?(?:one|two|three|four|five|six|"
                           r"seven|eight|nine|ten|\d)")  # "at least one": a count that agrees across articles by chance
# numbers up to ten are usually spelled out in news style ("his third son", "three days")
_SPELLED = dict(enumerate(zip("one two three four five six seven eight nine ten".split(),
                              "first second third fourth fifth sixth seventh eighth ninth tenth".split()), start=1))


@functools.lru_cache(maxsize=1024)
def _figure(number: str) -> re.Pattern:
    """The number as written, not inside a longer one ("12" not in "2012" or "1.12")."""
    return re.compile(rf"(?<![\d,.]){re.escape(number)}(?!\d)")


def numbers_in(question: QuestionAnalysis, quoted: set[str], passages: list[Passage]) -> bool:
    """Every number the question writes in figures ("in 1765", "the 22nd") appears in the articles the answer
    quotes (their retrieved passages, titles or dates), in figures or, up to ten, in words: a number is as
    particular as a name."""
    numbers = _NUMBER.findall(question.own_text or question.text)
    if not numbers:
        return True
    text = " ".join(f"{p.text} {p.title} {p.date or ''}" for p in passages if p.article_id in quoted)
    return all(_figure(n).search(text) or (
        n.isdigit() and int(n) in _SPELLED and re.search(rf"\b(?:{'|'.join(_SPELLED[int(n)])})\b", text, re.I))
        for n in numbers)


def articles_naming(question: QuestionAnalysis, passages: list[Passage], stored: list) -> set[str]:
    """The retrieved articles that by themselves hold every name the question uses."""
    ids = {p.article_id for p in passages}
    if not question.name_terms:
        return ids
    words = {a: _article_words({a}, passages, stored) for a in ids}
    return {a for a in ids if all(_name_seen(t, words[a]) for t in question.name_terms)
            and _named_in_full(question, {a}, passages, stored)}


def _named_in_full(question: QuestionAnalysis, article_ids: set[str], passages: list[Passage], stored: list) -> bool:
    """Every name the question gives in two words or more (a person, a firm, a place…) stands whole in these
    articles: inside one of their names ("John D. Rockefeller" for "John Rockefeller"), or word for word; not
    "Robert Harper" where an article names William Rainey Harper and a Robert elsewhere. Each run of capitalized
    words is one name: "the Reel Society at Harlow University" is two, "X's Y" too."""
    text = question.own_text or question.text
    wholes = [words for e in question.entities if e.label in ANY_NAME - {"NORP"}
              for run in _NAME_RUN.findall(text, e.start, e.end) for name in _POSSESSIVE_S.split(run)
              if len(words := _content_words(name)) >= 2]
    if not wholes:
        return True
    names, said = [], []
    for passage, sentences in zip(passages, stored):
        if passage.article_id in article_ids:
            said += [" ".join(_content_words(words)) for words in (passage.title, passage.source, passage.text)
                     if words]
            names += [set(_content_words(passage.text[e.start:e.end])) for s in sentences for e in s.analysis.entities]
    def held(words: list[str]) -> bool:
        return any(set(words) <= name for name in names) or any(f" {' '.join(words)} " in f" {t} " for t in said)

    def named(words: list[str]) -> bool:  # or names run together, each one whole: "Pak Myong Ho Mongolia visit"
        return any(set(words) == name for name in names) or any(
            named(words[:i]) and named(words[i:]) for i in range(1, len(words)))

    return all(held(whole) or any(named(whole[:i]) and named(whole[i:]) for i in range(1, len(whole)))
               for whole in wholes)


def _content_words(text: str) -> list[str]:
    """The words of a name, lower case, without possessive endings and function words."""
    return [w for w in (_POSSESSIVE_S.sub("", w) for w in _WORDS.findall(text.lower())) if w not in _FUNCTION_WORDS]


_WORDS = re.compile(r"[\w'’-]+")
_POSSESSIVE_S = re.compile(r"['’]s?(?!\w)")
_NAME_RUN = re.compile(r"[A-Z][\w.’'-]*(?:\s+[A-Z][\w.’'-]*)*")  # "John D. Rockefeller", "PanCanadian Petroleum's"


def _article_words(article_ids: set[str], passages: list[Passage], stored: list) -> set[str]:
    """The lemmas and lower-case words of these articles' retrieved passages, titles and sources."""
    seen: set[str] = set()
    for passage, sentences in zip(passages, stored):
        if passage.article_id in article_ids:
            seen.update(t for s in sentences for t in s.analysis.terms)
            seen.update(w.lower().strip("'’.,:;!?\"()") for w in
                        f"{passage.title} {passage.source or ''} {passage.text}".split())
            seen.update(_initials(f"{passage.title}. {passage.text}"))
    return seen | {stem(w) for w in seen}  # "Lights", which the question's parse may read as "light"


_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
# words a question uses of the text or of an event at large, which no sentence needs to say ("Which pandemic is
# mentioned?", "When did the visit happen?"): not weighed as the question's words
_UNSAID = frozenset(map(stem, {"mention", "happen", "occur"}))
_FRAMING_WORDS = frozenset(map(stem, {"accord", "write", "publish", "report", "cover", *ARTICLE_WORDS}))


def _source_words(passage: Passage) -> set[str]:
    """The words of a passage's source, lower case and stemmed like a question's lemmas ("verge" for "The Verge")."""
    return {stem(w) for w in _content_words(passage.source or "")}


_CAPITALIZED = re.compile(r"[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|for|on)\s+)*[A-Z][\w'’-]*)+")  # "Court of Justice"


def _initials(text: str) -> set[str]:
    """The initials of the capitalized words that follow one another, lower case, of every run of two or more
    ("eu" for "the European Union", "sp" for "the Scottish Parliament's"): an acronym the question uses is a name
    the article spells out."""
    found = set()
    for run in _CAPITALIZED.finditer(text):
        letters = "".join(w[0] for w in run.group().split() if w[0].isupper()).lower()
        found.update(letters[i:j] for i in range(len(letters)) for j in range(i + 2, len(letters) + 1))
    return found


def _rarity(terms, sentence_terms: list[frozenset[str]]) -> dict[str, float]:
    """Each term's weight by how few of the sentences hold it."""
    n = len(sentence_terms)
    return {t: math.log((n + 1) / (sum(t in found for found in sentence_terms) + 0.5)) for t in terms}


def _share(weights: dict[str, float], terms: frozenset[str]) -> float:
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in terms) / total if total > 0 else 0.0


def _name_seen(term: str, seen: set[str]) -> bool:
    """A name's word was seen, also inside a hyphenated or possessive form (Bankman-Fried, Reuters')."""
    return term in seen or stem(term) in seen or any(term in re.split(r"[-'’]", word) for word in seen
                                                      if "-" in word or "'" in word)


def _near_duplicate(a: Sentence, b: Sentence) -> bool:
    """Mostly the same words, or (from two articles: a wire story and its copy) the same meaning. Sentences of
    one article are read in their shared context (rag.embedding), so their vectors are close anyway."""
    ta, tb = a.lemmas, b.lemmas
    if (len(ta & tb) / len(ta | tb) if ta | tb else 1.0) >= 0.6:
        return True
    return a.article_id != b.article_id and float(a.vector @ b.vector) >= 0.9


def _clean(text: str) -> str:
    return " ".join(_SOURCE_MARKER.sub("", text).split())


def _described(passage: Passage) -> str:
    """How an answer names an article: its source's report, titled ("TechCrunch's “…”", "TechCrunch's article",
    "“…”", "the article")."""
    if passage.title:
        return f"{passage.source}'s “{passage.title}”" if passage.source else f"“{passage.title}”"
    return f"{passage.source}'s article" if passage.source else "the article"


def drained_compose(chosen: Sequence[Sentence], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """compose()'s text and citations, without its tokens."""
    parts = compose(chosen, passages)
    try:
        while True:
            next(parts)
    except StopIteration as done:
        return done.value


def said(answer: Answer) -> Generator[Token, None, Answer]:
    """An answer of one piece: its whole text at once."""
    yield Token(answer.answer)
    return answer


def compose(chosen: Sequence[Sentence], passages: list[Passage]) -> Generator[Token, None, tuple[str, list[Citation]]]:
    """Each sentence with its [n] markers as it is written; returns the text and the citations (in order of use)."""
    numbers: dict[int, int] = {}
    highlights: dict[int, list[tuple[int, int]]] = defaultdict(list)
    parts = []
    for number, sentence in enumerate(chosen, start=1):
        markers = []
        for source in [sentence, *sentence.extra]:
            n = numbers.setdefault(source.passage_index, len(numbers) + 1)
            span = (source.analysis.start, source.analysis.end)
            if span not in highlights[source.passage_index]:
                highlights[source.passage_index].append(span)
            if n not in markers:
                markers.append(n)
        parts.append(sentence.text + " " + "".join(f"[{n}]" for n in sorted(markers)))
        yield Token(parts[-1] + (" " if number < len(chosen) else ""))
    citations = [Citation(n=n, passage=passages[index], highlights=tuple(sorted(highlights[index])))
                 for index, n in sorted(numbers.items(), key=lambda item: item[1])]
    return " ".join(parts), citations
