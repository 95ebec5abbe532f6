"""Evaluation harness: metric functions on hand-made samples, question-set validation, the fixture set
against its committed baseline (in process and over HTTP), the reports and the `newsrag eval` command."""

import json
import random
import socket
from pathlib import Path

import numpy as np
import pytest

from eval import metrics as m
from eval.dataset import QuestionSetError, load_questions, questions_from_lines
from eval.report import (GATED_METRICS, compare_to_baseline, load_baseline, regressions, terminal_report,
                         write_reports)
from eval.runner import EvalError, InProcessTarget, evaluate, evaluate_server
from cli.main import main
from rag.corpus import load_articles

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SET = ROOT / "eval" / "sets" / "fixture.jsonl"
BASELINE = ROOT / "eval" / "baselines" / "fixture.json"
SEED_SET = ROOT / "eval" / "sets" / "seed.jsonl"
SEED_BASELINE = ROOT / "eval" / "baselines" / "seed.json"
REPORTS_SET = ROOT / "eval" / "sets" / "reports.jsonl"
REPORTS_BASELINE = ROOT / "eval" / "baselines" / "reports.json"
PHRASINGS_SET = ROOT / "eval" / "sets" / "phrasings.jsonl"  # the seed corpus asked as people type
PHRASINGS_BASELINE = ROOT / "eval" / "baselines" / "phrasings.json"
ARTICLES = Path(__file__).parent / "fixtures" / "articles"
REPORTS = Path(__file__).parent / "fixtures" / "reports"
# questions as a reader types them first (eval/README.md): the set, its corpus and its baseline
CASUAL = {name: (ROOT / "eval" / "sets" / f"{name}.jsonl", corpus, ROOT / "eval" / "baselines" / f"{name}.json")
          for name, corpus in [("casual", ROOT / "corpus"), ("casual-seed", ROOT / "corpus"),
                               ("casual-fixture", ARTICLES), ("casual-reports", REPORTS),
                               ("blind-seed", ROOT / "corpus"), ("blind-fixture", ARTICLES),
                               ("blind-reports", REPORTS)]}


# --- metrics on hand-made samples -------------------------------------------------------------------
def test_ranked_article_ids_keep_each_article_at_its_first_rank():
    assert m.ranked_article_ids(["a", "b", "a", "c", "b"]) == ("a", "b", "c")


def test_hit_mrr_and_recall():
    ranked, gold = ("x", "g", "y", "h"), {"g", "h", "z"}
    assert m.first_gold_rank(ranked, gold) == 2
    assert not m.hit_at_k(ranked, gold, 1) and m.hit_at_k(ranked, gold, 4)
    assert m.mrr_at_k(ranked, gold, 10) == 0.5 and m.mrr_at_k(ranked, gold, 1) == 0.0
    assert m.recall_at_k(ranked, gold, 2) == pytest.approx(1 / 3)
    assert m.recall_at_k(ranked, gold, 10) == pytest.approx(2 / 3)
    assert m.first_gold_rank(ranked, {"nowhere"}) is None and m.mrr_at_k(ranked, {"nowhere"}, 10) == 0.0


def test_accuracy_is_case_and_space_insensitive_and_matches_whole_words():
    answer = "The talks were held with  Foreign Minister DARIO\nKELLAN. [1]"
    assert m.answer_accuracy(answer, ["nobody", "dario kellan"])
    assert m.answer_accuracy("About 45 companies came. [2]", ["45"])
    assert not m.answer_accuracy("About 1,450 people came. [1]", ["45"])
    assert not m.answer_accuracy("Kellanish talks. [1]", ["Kellan"])
    assert not m.answer_accuracy("anything", [])


def test_token_f1_against_the_best_accepted_answer():
    # tokens: [120, university, scholarships] vs [120, scholarships]: P = 2/3, R = 1, F1 = 0.8
    assert m.token_f1("The 120 university scholarships. [1]", ["none of it", "120 scholarships"]) == \
        pytest.approx(0.8)
    assert m.token_f1("Nothing in common. [1]", ["120"]) == 0.0
    assert m.token_f1("the 120", ["120"]) == 1.0  # articles and markers do not count


def test_answer_sentences_and_the_share_that_carry_citations():
    answer = "Mr. Varga met Kellan. [1] Talks resume in Halvik. The line costs 2.4 billion crowns. [2][3]"
    sentences = m.answer_sentences(answer)
    assert sentences == [("Mr. Varga met Kellan.", (1,)), ("Talks resume in Halvik.", ()),
                         ("The line costs 2.4 billion crowns.", (2, 3))]
    assert m.cited_sentence_share(answer) == pytest.approx(2 / 3)
    assert m.cited_sentence_share("One. [1] Two. [1]") == 1.0
    assert m.cited_sentence_share("") == 0.0


def test_citations_must_point_at_retrieved_passages_and_markers_at_citations():
    cited = (m.CitedPassage(1, "p1", "a"), m.CitedPassage(2, "p2", "b"))
    assert m.citations_point_at_retrieved("X. [1] Y. [2]", cited, ["p1", "p2", "p3"])
    assert not m.citations_point_at_retrieved("X. [1] Y. [3]", cited, ["p1", "p2"])  # [3] cites nothing
    assert not m.citations_point_at_retrieved("X. [1]", cited, ["p1"])  # p2 was not retrieved


def test_citation_precision_is_the_share_of_cited_passages_from_gold_articles():
    cited = [m.CitedPassage(n, f"p{n}", article) for n, article in enumerate(["g", "x", "g", "y"], start=1)]
    assert m.citation_precision(cited, {"g"}) == 0.5
    assert m.citation_precision([], {"g"}) is None


def test_refusal_flags():
    assert m.correctly_declined(True, answered=False) is True
    assert m.correctly_declined(True, answered=True) is False
    assert m.correctly_declined(False, answered=False) is None
    assert m.wrongly_declined(False, answered=False) is True
    assert m.wrongly_declined(True, answered=False) is None


def test_percentile_interpolates_like_numpy():
    assert m.percentile([4, 1, 3, 2], 50) == 2.5
    assert m.percentile([1, 2, 3, 4], 95) == pytest.approx(3.85)
    assert m.percentile([7.0], 95) == 7.0 and m.percentile([], 50) is None
    values = [random.Random(seed).uniform(0, 100) for seed in range(37)]
    for q in (0, 10, 50, 95, 100):
        assert m.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def _sample(**fields):
    return m.Sample(question_id=fields.pop("id", "q"), question="?", **fields)


def test_summarize_averages_each_metric_over_the_questions_it_applies_to():
    right = _sample(accepted=("Kellan",), gold_ids=("a",), answer="He met Kellan. [1]", answered=True,
                    ranked_ids=("a", "b"), retrieved_passage_ids=("pa", "pb"),
                    citations=(m.CitedPassage(1, "pa", "a"),), timings_ms={"total": 10.0})
    wrong = _sample(accepted=("Halvik",), gold_ids=("a",), answer="Talks went on. Elsewhere. [1][2]",
                    answered=True, ranked_ids=("b", "a"), retrieved_passage_ids=("pb", "pa"),
                    citations=(m.CitedPassage(1, "pb", "b"), m.CitedPassage(2, "pa", "a")),
                    timings_ms={"total": 30.0})
    refused = _sample(unanswerable=True, answer="The corpus does not hold an answer.", answered=False,
                      ranked_ids=("b",), retrieved_passage_ids=("pb",), timings_ms={"total": 20.0})
    samples = [right, wrong, refused]
    overall = m.summarize(samples, [m.score_sample(s) for s in samples])
    assert (overall["questions"], overall["answerable"], overall["unanswerable"]) == (3, 2, 1)
    assert overall["hit@1"] == 0.5 and overall["hit@4"] == 1.0 and overall["mrr@10"] == 0.75
    assert overall["accuracy"] == 0.5 and overall["correct"] == pytest.approx(2 / 3)
    assert overall["refusal_accuracy"] == 1.0 and overall["false_refusal_rate"] == 0.0
    assert overall["citations_valid"] == 1.0
    assert overall["citation_precision"] == pytest.approx(2 / 3)  # 2 of 3 cited passages are gold
    assert overall["cited_sentences"] == pytest.approx(2 / 3)  # "Talks went on." has no marker
    assert m.latency_summary(samples)["total"] == {"p50": 20.0, "p95": 29.0, "mean": 20.0, "n": 3}


def test_a_drop_below_the_baseline_is_a_regression_and_a_tie_is_not():
    baseline = {"metrics": {"accuracy": 0.8, "hit@1": 1.0, "false_refusal_rate": 0.0}}
    assert regressions(compare_to_baseline({"accuracy": 0.8, "hit@1": 1.0}, baseline)) == []
    assert regressions(compare_to_baseline({"accuracy": 0.79, "hit@1": 1.0}, baseline)) == ["accuracy"]
    rows = compare_to_baseline({"accuracy": 0.9, "false_refusal_rate": 0.1}, baseline)
    assert [r["metric"] for r in rows if r["worse"]] == ["false_refusal_rate"]  # reported, not gated


# --- question sets ---------------------------------------------------------------------------------
GOOD = '{"id": "q1", "question": "Who?", "answers": ["Kellan"], "docs": ["a"], "type": "who"}'


@pytest.mark.parametrize("bad_line, message", [
    ('{"id": "q2", "question": "Who?", "docs": ["a"]}', "line 3: 'answers' needs at least one"),
    ('{"id": "q2", "question": "Who?", "answers": ["x"], "docs": ["a"]', "line 3: not valid JSON"),
    ('{"id": "q1", "question": "Who?", "answers": ["x"], "docs": ["a"]}', "line 3: id 'q1' is already used on line 1"),
    ('{"id": "q2", "question": "Who?", "answer": ["x"], "docs": ["a"]}', "line 3: unknown field(s) answer"),
    ('{"id": "q2", "question": "", "answers": ["x"], "docs": ["a"]}', "line 3: 'question' must be a non-empty"),
    ('{"id": "q2", "question": "Who?", "answers": "x", "docs": ["a"]}', "line 3: 'answers' must be a list"),
    ('{"id": "q2", "question": "Who?", "answers": ["x"], "docs": []}', "line 3: 'docs' needs the id"),
    ('{"id": "q2", "question": "Who?", "answers": ["x"], "unanswerable": true}', "line 3: an unanswerable"),
    ('{"id": "q2", "question": "Who?", "unanswerable": "yes"}', "line 3: 'unanswerable' must be true or false"),
    ('["q2", "Who?"]', "line 3: expected a JSON object"),
])
def test_a_bad_line_is_named_with_what_is_wrong(tmp_path, bad_line, message):
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join([GOOD, "", bad_line]) + "\n", encoding="utf-8")
    with pytest.raises(QuestionSetError) as raised:
        load_questions(path)
    assert f"{path} {message}" in raised.value.message


def test_a_valid_set_loads_with_defaults_and_limit(tmp_path):
    lines = [GOOD, '{"id": "q2", "question": "Football?", "answers": [], "docs": [], "unanswerable": true}']
    questions = questions_from_lines(lines)
    assert [q.id for q in questions] == ["q1", "q2"] and questions[1].unanswerable and questions[1].type is None
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert [q.id for q in load_questions(path, limit=1)] == ["q1"]
    with pytest.raises(QuestionSetError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")


def test_the_shipped_fixture_set_is_valid_and_its_gold_articles_exist():
    questions = load_questions(FIXTURE_SET)
    article_ids = {a.id for a in load_articles(ARTICLES).articles}
    assert len(questions) >= 20 and sum(q.unanswerable for q in questions) >= 3
    assert {doc for q in questions for doc in q.docs} <= article_ids


@pytest.mark.parametrize("name", sorted(CASUAL))
def test_the_casual_sets_gold_articles_exist_and_give_their_answers(name):
    path, corpus, _ = CASUAL[name]
    articles = {a.id: f"{a.title}\n{a.date}\n{a.body}" for a in load_articles(corpus).articles}
    for question in load_questions(path):
        assert set(question.docs) <= set(articles), question.id
        assert all(any(answer in articles[doc] for doc in question.docs) for answer in question.answers), question.id


# --- the fixture set against the committed baseline ------------------------------------------------------
def _run(service, questions: Path):
    """A question set asked of a service as `newsrag eval` asks it (top_k 10)."""
    return evaluate(InProcessTarget(service), load_questions(questions), top_k=10, progress=False,
                    meta={"question_set": questions.relative_to(ROOT).as_posix()})


@pytest.fixture(scope="module")
def fixture_run(corpus_service):
    return _run(corpus_service, FIXTURE_SET)


def _ingested_service(tmp_path_factory, embedder, analyzer, name: str, corpus: Path):
    from tests.conftest import ingested

    with ingested(tmp_path_factory, name, embedder, analyzer, corpus) as service:
        yield service


@pytest.fixture(scope="module")
def seed_service(tmp_path_factory, embedder, analyzer):
    yield from _ingested_service(tmp_path_factory, embedder, analyzer, "seed-eval", ROOT / "corpus")


@pytest.fixture(scope="module")
def seed_run(seed_service):
    return _run(seed_service, SEED_SET)


@pytest.fixture(scope="module")
def phrasings_run(seed_service):
    return _run(seed_service, PHRASINGS_SET)


@pytest.fixture(scope="module")
def reports_service(tmp_path_factory, embedder, analyzer):
    yield from _ingested_service(tmp_path_factory, embedder, analyzer, "reports-eval", REPORTS)


@pytest.fixture(scope="module")
def reports_run(reports_service):
    return _run(reports_service, REPORTS_SET)


@pytest.fixture(scope="module")
def casual_runs(request):
    """Each casual set run on the service of its corpus, as needed."""
    services = {ROOT / "corpus": "seed_service", ARTICLES: "corpus_service", REPORTS: "reports_service"}
    runs = {}

    def run(name: str):
        if name not in runs:
            path, corpus, _ = CASUAL[name]
            runs[name] = _run(request.getfixturevalue(services[corpus]), path)
        return runs[name]
    return run


@pytest.mark.parametrize("run_name, baseline_path", [("fixture_run", BASELINE), ("seed_run", SEED_BASELINE),
                                                     ("reports_run", REPORTS_BASELINE),
                                                     ("phrasings_run", PHRASINGS_BASELINE),
                                                     *((name, CASUAL[name][2]) for name in sorted(CASUAL))])
def test_question_sets_are_no_worse_than_their_committed_baselines(request, run_name, baseline_path):
    run = request.getfixturevalue("casual_runs")(run_name) if run_name in CASUAL else request.getfixturevalue(run_name)
    baseline = load_baseline(baseline_path)
    assert baseline["metrics"]["questions"] == run.overall["questions"], \
        "the question set changed: rewrite the baseline (eval/README.md)"
    failing = {row["id"]: row["outcome"] for row in _rows(run) if row["outcome"] not in ("correct", "declined")}
    for name in GATED_METRICS:
        assert run.overall[name] >= baseline["metrics"][name] - 1e-9, \
            f"{name} fell from {baseline['metrics'][name]:.4f} to {run.overall[name]:.4f}; failing: {failing}"
    assert run.overall["errors"] == 0 and run.warnings == []


def test_fixture_answers_cite_only_retrieved_passages_on_every_sentence(fixture_run):
    assert fixture_run.overall["citations_valid"] == 1.0
    assert fixture_run.overall["cited_sentences"] == 1.0


def _rows(run):
    from eval.report import question_rows

    return question_rows(run)


def test_reports_are_written_as_json_and_self_contained_html(fixture_run, tmp_path):
    json_path, html_path = write_reports(fixture_run, tmp_path / "out")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report["overall"] == fixture_run.overall
    assert [q["id"] for q in report["questions"]] == [q.id for q in load_questions(FIXTURE_SET)]
    assert {"p50", "p95"} <= set(report["latency_ms"]["total"]) and set(report["by_type"]) >= {"who", "when"}
    page = html_path.read_text(encoding="utf-8")
    assert page.count("<svg") >= 3 and "Score by question type" in page
    outside = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in outside and "https://" not in outside and "<script" not in outside
    table = terminal_report(fixture_run)
    assert all(q.id in table for q in fixture_run.questions) and "mrr@10" in table and "p95" in table


# --- over HTTP ---------------------------------------------------------------------------------------
def test_http_mode_scores_a_running_server_like_the_service(live_server, fixture_run):
    questions = [q for q in load_questions(FIXTURE_SET) if q.id in {"q01", "q12", "q26", "q32", "q35"}]
    run = evaluate_server(live_server, questions, top_k=10, progress=False)
    local = {s.question_id: s for s in fixture_run.samples}
    for sample in run.samples:
        twin = local[sample.question_id]
        assert (sample.answer, sample.answered, sample.ranked_ids, sample.citations) == \
            (twin.answer, twin.answered, twin.ranked_ids, twin.citations)
        assert sample.timings_ms["http"] >= sample.timings_ms["total"] > 0
    assert run.overall["errors"] == 0 and run.meta["mode"] == "http" and run.warnings == []
    assert run.latency_ms["http"]["p95"] >= run.latency_ms["http"]["p50"] > 0


def test_http_errors_are_counted_per_question(failing_live_server):
    questions = load_questions(FIXTURE_SET, limit=2)
    run = evaluate_server(failing_live_server, questions, progress=False)
    assert run.overall["errors"] == 2 and run.overall["accuracy"] == 0.0
    assert all(s.error.startswith("500") for s in run.samples)


def test_an_unreachable_server_stops_the_run_with_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EvalError, match=f"cannot reach the server at http://127.0.0.1:{port}"):
        evaluate_server(f"http://127.0.0.1:{port}", load_questions(FIXTURE_SET, limit=1), progress=False)


# --- the command ---------------------------------------------------------------------------------------
def test_eval_command_writes_reports_and_checks_a_baseline(tmp_path, monkeypatch, embedder, capsys):
    monkeypatch.setattr("rag.service.build_embedder", lambda settings: embedder)  # share the loaded model
    common = ["--data-dir", str(tmp_path / "unused"), "eval", "--corpus", str(ARTICLES),
              "--questions", str(FIXTURE_SET), "--limit", "6", "--quiet"]
    baseline = tmp_path / "baseline.json"
    assert main([*common, "--out", str(tmp_path / "first"), "--write-baseline", str(baseline)]) == 0
    written = json.loads(baseline.read_text(encoding="utf-8"))
    assert written["metrics"]["questions"] == 6 and written["top_k"] == 10
    assert main([*common, "--out", str(tmp_path / "second"), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "WORSE" not in out and (tmp_path / "second" / "report.html").exists()
    assert not (tmp_path / "unused").exists()  # a fresh temporary store, not the configured one
    written["metrics"]["accuracy"] = 1.5  # a baseline nothing can reach
    baseline.write_text(json.dumps(written), encoding="utf-8")
    assert main([*common, "--out", str(tmp_path / "third"), "--baseline", str(baseline)]) == 1
    assert "worse than the baseline" in capsys.readouterr().err


def test_eval_command_reports_a_bad_question_set(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1"}\n', encoding="utf-8")
    assert main(["eval", "--server", "http://127.0.0.1:9", "--questions", str(bad), "--out", str(tmp_path)]) == 1
    assert f"{bad} line 1: 'answers' needs at least one" in capsys.readouterr().err


def test_variants_of_a_set_change_only_the_question(tmp_path):
    from eval.variants import main, variant, write_variant

    assert variant("Who did Pak Myong Ho meet in Ulaanbaatar?", "lower") == "who did pak myong ho meet in ulaanbaatar?"
    assert variant("Who did Pak meet in North Korea's capital?", "title") == \
        "Who Did Pak Meet In North Korea's Capital?"
    assert variant("Who did Pak Myong Ho meet in Ulaanbaatar?", "misspelled") == \
        "Who did Pak Myong Ho meet in Ulanabaatar?"
    assert variant("Who did Pak meet?", "misspelled") is None  # no capitalized word of six letters
    out = tmp_path / "seed-misspelled.jsonl"
    written = write_variant(SEED_SET, "misspelled", out)
    changed = load_questions(out)
    originals = {q.id: q for q in load_questions(SEED_SET)}
    assert 0 < written == len(changed) < len(originals)
    for question in changed:
        original = originals[question.id]
        assert question.question != original.question and len(question.question) == len(original.question)
        assert (question.answers, question.docs, question.history) == (original.answers, original.docs,
                                                                     original.history)
    with pytest.raises(SystemExit) as exit_:
        main([str(tmp_path / "missing.jsonl"), "--kind", "lower", "--out", str(tmp_path / "x.jsonl")])
    assert exit_.value.code == 2
