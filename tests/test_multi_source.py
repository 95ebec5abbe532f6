"""Questions about several reports: what two sources both report, which report came first (from the articles'
dates), and fields with their values ("Release date. 3 May 2024"), over the articles of tests/fixtures/reports/
(eval/sets/reports.jsonl asks more of them)."""

from pathlib import Path

import pytest

from rag.answer import ORDERED
from tests.conftest import ingested

REPORTS = Path(__file__).parent / "fixtures" / "reports"  # several sources reporting the same stories, dated


@pytest.fixture(scope="module")
def reports_service(tmp_path_factory, embedder, analyzer):
    with ingested(tmp_path_factory, "multi-source", embedder, analyzer, REPORTS) as service:
        yield service


def cited_articles(answer) -> set[str]:
    return {c.passage.article_id for c in answer.citations}


def test_what_two_sources_both_report_is_answered_from_both(reports_service):
    answer = reports_service.ask("Which person, reported by the Harbour Ledger and Coastal Wire, was found guilty "
                                 "of defrauding the customers of a payments firm?")
    assert answer.answered and answer.short_answer.text == "Tomas Brandt"
    assert cited_articles(answer) == {"ledger-verdict", "wire-verdict"}


@pytest.mark.parametrize("question, short", [
    # the sources named apart, each with what it reports
    ("Who was convicted of defrauding customers according to Coastal Wire, and has a sentencing date according to "
     "the Harbour Ledger?", "Tomas Brandt"),
    ("Which individual was found guilty of fraud according to the Harbour Ledger and Coastal Wire?", "Tomas Brandt"),
])
def test_a_person_two_sources_report_is_named_and_both_are_cited(reports_service, question, short):
    answer = reports_service.ask(question)
    assert answer.answered and answer.short_answer.text == short
    assert cited_articles(answer) == {"ledger-verdict", "wire-verdict"}


def test_the_person_an_aside_describes_did_it_not_the_firm_inside_the_aside(reports_service):
    # "Mila Serrat, Ravel's former finance director, testified against him"
    answer = reports_service.ask("Who testified against Tomas Brandt?")
    assert answer.answered and answer.short_answer.text == "Mila Serrat"


def test_which_company_s_board_asks_for_the_company(reports_service):
    answer = reports_service.ask("Which company's board removed Ada Quell, according to articles from Coastal Wire and "
                                 "the Harbour Ledger?")
    assert answer.answered and answer.short_answer.text == "Orrin Labs"


@pytest.mark.parametrize("question, verdict", [
    ("Was the Harbour Ledger report on Norvik hiring Ada Quell published before or after the Coastal Wire report "
     "on her ouster?", "after"),
    ("Did the Harbour Ledger report that Ada Quell would join Norvik after Coastal Wire reported that the Orrin "
     "Labs board removed her?", "Yes"),
    ("Did Coastal Wire report that the Orrin Labs board removed Ada Quell after the Harbour Ledger reported that "
     "Norvik hired her?", "No"),
    ("Did the Harbour Ledger say Norvik hired Ada Quell after Coastal Wire said the Orrin Labs board removed her?",
     "Yes"),  # no word of reporting, but a source on each side
])
def test_which_report_came_first_is_read_from_the_articles_dates(reports_service, question, verdict):
    answer = reports_service.ask(question)
    assert answer.answered and answer.short_answer.text == verdict and answer.notice == ORDERED
    assert cited_articles(answer) == {"ledger-hire", "wire-ouster"}
    assert "“Norvik hires Ada Quell after Orrin Labs ouster” (2025-05-13)" in answer.answer
    assert "“Orrin Labs board removes chief executive Ada Quell” (2025-05-10)" in answer.answer


@pytest.mark.parametrize("question", [
    "Did the Harbour Ledger report that Tomas Brandt was found guilty before his sentencing?",  # one report
    "Did Ada Quell join Norvik after the Orrin Labs board removed her?",  # events, not reports: not by their dates
])
def test_an_order_between_events_is_no_comparison_of_report_dates(reports_service, question):
    assert reports_service.ask(question).notice != ORDERED


@pytest.mark.parametrize("question, short", [
    ("When was Odyssey Quest released?", "3 May 2024"),
    ("Which studio developed Odyssey Quest?", "Brightside Studio"),
    ("What was the box office of Harbour Lights?", "48 million dollars"),  # the value of the field it names
])
def test_a_field_and_its_value_answer_like_a_sentence(reports_service, question, short):
    answer = reports_service.ask(question)
    assert answer.answered and answer.short_answer.text == short
    assert len(cited_articles(answer)) == 1


def test_a_title_the_question_uses_need_not_be_written_so_in_the_article(reports_service):
    answer = reports_service.ask("Which company did Ada Quell join after she was removed as CEO of Orrin Labs, "
                                 "according to the Harbour Ledger?")
    assert answer.answered and answer.short_answer.text == "Norvik"
