"""spaCy's analysis at ingest: the packaged model, headings, sentences, entities and lemmas with offsets."""

import pytest

from rag.analysis import is_heading, paragraphs


def test_the_model_is_explosions_mit_en_core_web_sm_3_8_0(analyzer):
    meta = analyzer.nlp.meta
    assert (meta["author"], meta["license"], meta["version"], meta["lang"]) == ("Explosion", "MIT", "3.8.0", "en")


def test_sentences_entities_and_lemmas_carry_offsets_into_the_body(analyzer):
    body = "Pak Myong Ho met Amartuvshin Gombosuren in Ulaanbaatar on Monday. The ministers discussed education."
    first, second = analyzer.articles([body])[0]
    assert body[first.start:first.end].startswith("Pak Myong Ho met") and body[second.start:second.end] == \
        "The ministers discussed education."
    entities = {(body[e.start:e.end], e.label) for e in first.entities}
    assert ("Amartuvshin Gombosuren", "PERSON") in entities and ("Ulaanbaatar", "GPE") in entities
    assert "minister" in second.terms and "discuss" in second.terms and "the" not in second.terms
    assert [body[i:i + len("ministers")] for t, i in zip(second.terms, second.term_starts) if t == "minister"] == \
        ["ministers"]


def test_a_short_line_of_its_own_is_a_heading_unless_it_ends_the_article():
    body = "First paragraph here.\n\nReviving Diplomatic Ties\n\nSecond paragraph.\n\nSigned off"
    assert [(body[s:e], h) for s, e, h in paragraphs(body)] == [
        ("First paragraph here.", False), ("Reviving Diplomatic Ties", True), ("Second paragraph.", False),
        ("Signed off", False)]
    assert not is_heading("A full sentence ends with a stop.") and not is_heading("lower case line")
    assert not is_heading("Two lines\nare a paragraph")


@pytest.mark.parametrize("line", ["Release date. October 27, 2017", "Developer: Nintendo EPD", "Running time. 105 min"])
def test_a_field_and_its_value_on_a_line_of_their_own_is_one_sentence_not_a_heading(analyzer, line):
    body = f"Odyssey Quest\n\n{line}\n\nOdyssey Quest is a platform game."
    assert not is_heading(line) and is_heading("Focus on Education and Culture")
    first, second = analyzer.articles([body])[0]
    assert body[first.start:first.end] == line and first.section == second.section == "Odyssey Quest"


def test_a_run_of_punctuation_is_analyzed_as_one_mark(analyzer):
    body = "Alarm " + "!" * 40_000 + " Then the story goes on. It ends here."
    sentences = analyzer.articles([body])[0]
    assert sentences[-1].end == len(body) and body[sentences[-1].start:sentences[-1].end] == "It ends here."


def test_the_question_is_typed_by_its_question_word(analyzer):
    from rag.answer import expected_types

    assert expected_types(analyzer.question("Who did Pak Myong Ho meet?")) == {"PERSON", "ORG", "NORP"}
    assert "GPE" in expected_types(analyzer.question("In which city were the talks held?"))
    assert expected_types(analyzer.question("How many people were evacuated?")) >= {"CARDINAL"}
    assert "DATE" in expected_types(analyzer.question("When will the park open?"))
    assert expected_types(analyzer.question("Why did the talks matter?")) is None
    assert analyzer.question("What kind of relations did they discuss?").focus == "relation"
    assert expected_types(analyzer.question("What kind of state was California admitted as?")) is None  # a kind
    assert "GPE" in expected_types(analyzer.question("What is the name of the state?"))


@pytest.mark.parametrize("question, focus", [
    ("What is the capacity of the park?", "capacity"),
    ("What was the Bank of Serevia's decision?", "decision"),  # no noun chunk holds "decision"
    ("What was Hero of Alexandria's nationality?", "nationality"),  # parsed as "Hero of (Alexandria's …)"
    ("What is Brightfen?", "be"),  # a name: no noun says what is asked
])
def test_what_is_asks_for_the_noun_after_is(analyzer, question, focus):
    assert analyzer.question(question).focus == focus


@pytest.mark.parametrize("question, amount", [
    ("What is the reliquary worth?", True),
    ("What did Brightfen pay for the plant?", True),
    ("What pay rise did the dockers accept?", True),  # a word of value in the phrase of what is asked
    ("What subject replaced values education in the fourth year?", False),  # a subject, named by its noun
])
def test_a_word_of_value_asks_for_an_amount_only_where_no_other_kind_is_named(analyzer, question, amount):
    from rag.answer import SUMS, expected_types

    assert (expected_types(analyzer.question(question)) == SUMS) == amount  # a sum, a share or a bare figure


@pytest.mark.parametrize("question, role, verb", [
    ("What drives down wages?", "subject", "drive"),
    ("What company agreed to terminate the proceedings?", "subject", "agree"),  # the noun "what" qualifies
    ("What did BSkyB name their interactive service?", "object", "name"),
    ("What do closed rivers serve as?", "object", "serve"),  # through the preposition
    ("What was developed for the Air Force?", "passive", "develop"),
    ("What is the capital of Serevia?", "", ""),  # a copula: no side to take
    # inverted by "do", with the verb the small model tags as a noun, after a subject with a phrase of its own
    ("Who does the bronze statue at the harbour gate commemorate?", "object", "commemorate"),
    ("Who did Ilse Varga meet in Amberlin?", "object", "meet"),
])
def test_the_question_says_whether_it_asks_for_the_subject_or_the_object_of_its_verb(analyzer, question, role,
                                                                                    verb):
    analysis = analyzer.question(question)
    assert (analysis.asked_role, analysis.asked_verb) == (role, verb)


@pytest.mark.parametrize("question, names", [
    ("Which official did North Korea's deputy foreign minister meet?", {"north", "korea"}),
    ("Which company does Jon Asker work for?", {"jon", "asker"}),  # parsed with "does" as the verb
    ("Who runs Brightfen Capital?", set()),  # the question word is the subject
    ("Who is the head of Brightfen Capital?", set()),  # a copula: the name describes what is asked
])
def test_the_names_in_the_subject_of_a_question_about_something_else(analyzer, question, names):
    assert analyzer.question(question).subject_names == names


def test_the_verb_of_an_inverted_question_is_no_name_even_when_capitalized(analyzer):
    assert analyzer.question("Who did Emma Marry?").name_terms == {"emma"}


@pytest.mark.parametrize("question, ahead", [
    ("Where will the next round of talks take place?", True),
    ("When is the upcoming vote on the plan?", True),
    ("What will the council decide next year?", False),  # "next year" names a time, said as a date
    ("Where did the talks take place?", False),
])
def test_the_question_says_whether_it_asks_about_the_next_of_something(analyzer, question, ahead):
    assert analyzer.question(question).ahead is ahead


@pytest.mark.parametrize("question, phrasal", [
    ("When did the game come out?", ("come out",)),
    ("When did the chief executive step down?", ("step down",)),  # the model reads a noun and an adverb
    ("Who set up the company and when did it shut down?", ("set up", "shut down")),
    ("When did the minister come to Ulaanbaatar?", ()),  # a preposition, not a particle
    ("Who stepped into the role quickly?", ()),
])
def test_the_question_s_verbs_with_their_particles(analyzer, question, phrasal):
    assert analyzer.question(question).phrasal == phrasal


@pytest.mark.parametrize("question, others", [
    ("Who met the North Korean vice-minister?", {"korean", "vice", "minister"}),  # the verb's object
    # the subject of an inverted question (the answerer keeps the titles and ranks among these words)
    ("Who did Ostmere's deputy foreign minister meet?", {"ostmere", "deputy", "foreign", "minister"}),
    ("Who interpreted for the two vice-ministers?", {"vice", "minister"}),  # through a preposition
    ("Who succeeded the chairman?", {"chairman"}),
    ("Who is the president of Mongolia?", set()),  # the title is what is asked for
    ("Who is Serevia's trade minister?", set()),
    ("Who replaced Ivar Holm as chairman?", {"ivar", "holm"}),  # "as": the title the answer takes
    ("Who was named chief executive?", set()),
])
def test_the_nouns_of_a_who_question_that_name_another_party(analyzer, question, others):
    assert analyzer.question(question).others == others


def test_the_names_a_follow_up_carries_come_from_the_model(analyzer):
    assert analyzer.names("Who did Ilse Varga meet in Amberlin on Monday?") == ["Ilse Varga", "Amberlin", "Monday"]
    assert analyzer.names("Which country hosted North Korea's vice foreign minister?") == ["North Korea"]
    assert analyzer.names("When will they hold their next talks?") == []


def test_which_x_s_y_asks_for_an_x_whose_y_it_is(analyzer):
    question = analyzer.question("Which company's board removed Sam Altman?")
    assert (question.focus, question.possessed) == ("company", "board")
    assert analyzer.question("Which company did Sam Altman join?").possessed == ""


def test_a_leading_did_asks_yes_or_no(analyzer):
    assert analyzer.question("Did the Harbour Ledger report that Ada Quell would join Norvik?").yes_no


@pytest.mark.parametrize("question, asked", [
    ("Name the Mongolian official Pak met.", "What is the Mongolian official Pak met?"),
    ("Please list the areas the talks stressed", "What are the areas the talks stressed?"),
    ("Can you give me the date of the talks?", "What is the date of the talks?"),
    ("Tell me who Pak met.", "Tell me who Pak met."),  # a question inside: asked as it is
    ("Who's the envoy?", "Who is the envoy?"),
    ("Who's been named chief executive?", "Who has been named chief executive?"),
    ("What're the terms of the deal?", "What are the terms of the deal?"),
    ("What did Pak Myong Ho's counterpart say?", "What did Pak Myong Ho's counterpart say?"),
])
def test_a_request_or_a_contraction_is_read_as_the_question_it_is(analyzer, question, asked):
    assert analyzer.question(question).text == asked
