"""Follow-up questions made standalone: which pronoun a name replaces, and how (rag.followup)."""

import pytest

from rag.followup import Antecedent, standalone_question
from rag.models import Turn

PERSON, PLACE, THING = frozenset({"person"}), frozenset({"place", "thing"}), frozenset({"thing"})
HISTORY = [Turn("user", "Who did Ilse Varga meet in Amberlin?"), Turn("assistant", "Dario Kellan [1]")]


def names(text):
    """The names the text uses, as spaCy would find them here."""
    found = [n for n in ("Ilse Varga", "Amberlin", "Dario Kellan") if n in text]
    return found + (["Varga"] if "Varga" in text and "Ilse Varga" not in text else [])


def antecedents(previous, earlier):
    assert previous == HISTORY[0].content and earlier == []  # the previous user question, the turns before it
    return [Antecedent("Ilse Varga", PERSON), Antecedent("Dario Kellan", PERSON), Antecedent("Amberlin", PLACE),
            Antecedent("Ostmere", THING)]


@pytest.mark.parametrize("question, standalone", [
    ("Who did she meet next?", "Who did Ilse Varga meet next? (Amberlin)"),
    ("What is his title?", "What is Ilse Varga's title? (Amberlin)"),  # a possessive stays one
    ("What did her counterpart say?", "What did Ilse Varga's counterpart say? (Amberlin)"),
    ("Did they meet her in Lindhavn?", "Did they meet Ilse Varga in Lindhavn? (Amberlin)"),  # "her" as an object
    ("What happened there?", "What happened in Amberlin? (Ilse Varga)"),  # a place for "there"
    ("What role has it played?", "What role has Amberlin played? (Ilse Varga)"),  # the first name of its kind
    # a name the follow-up already uses is not what its pronoun stands for (the other names are still carried)
    ("How is he described in relation to Varga?",
     "How is Dario Kellan described in relation to Varga? (Ilse Varga, Amberlin)"),
    # "there" and "it" that stand for nothing, and a plural: the names are carried, nothing is replaced
    ("Is there a date for the next round?", "Is there a date for the next round? (Ilse Varga, Amberlin)"),
    ("How long did it take?", "How long did it take? (Ilse Varga, Amberlin)"),
    ("When will they meet again?", "When will they meet again? (Ilse Varga, Amberlin)"),
])
def test_a_singular_pronoun_is_replaced_by_the_likeliest_name_of_its_kind(question, standalone):
    assert standalone_question(question, HISTORY, names, antecedents) == standalone


def test_without_antecedents_the_previous_names_are_carried():
    assert standalone_question("What did he say?", HISTORY, names) == "What did he say? (Ilse Varga, Amberlin)"
    # a question that stands alone is left as it is
    assert standalone_question("Who is the mayor of Merrowick?", HISTORY, lambda t: ["Merrowick"], antecedents) == \
        "Who is the mayor of Merrowick?"
