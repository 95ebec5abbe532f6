"""Run a question set through the pipeline and score it.

Two targets answer the same way: `InProcessTarget` calls RagService.ask (the object the server uses, built
once, so thousands of questions share one loaded model) and serializes the Answer as the API does;
`HttpTarget` POSTs to {base_url}/api/ask of a running server. Scoring reads only that JSON, so both modes are
scored by the same code.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol, Sequence

from eval.dataset import Question
from eval.metrics import CitedPassage, Sample, latency_summary, ranked_article_ids, score_sample, summarize
from rag.config import Settings
from rag.errors import RagError
from server.request_models import parsed, request_models

DEFAULT_TOP_K = 10
UNTYPED = "untyped"


class EvalError(RagError):
    code = "eval_error"


class AskFailed(Exception):
    """One question could not be asked (an error response); the run goes on and counts it."""


class Target(Protocol):
    name: str

    def ask(self, question: str, top_k: int, history: Sequence[str] = ()) -> dict: ...

    def missing_articles(self, article_ids: set[str]) -> set[str]: ...


def ask_body(question: str, top_k: int, history: Sequence[str]) -> dict:
    """The POST /api/ask body of a question: both targets send it (the in-process one to the server's model)."""
    turns = [{"role": "user", "content": h} for h in history]
    return {"question": question, "top_k": top_k, **({"history": turns} if turns else {})}


class InProcessTarget:
    name = "in-process"

    def __init__(self, service):
        self.service = service

    def ask(self, question: str, top_k: int, history: Sequence[str] = ()) -> dict:
        try:
            asked = parsed(request_models(self.service.settings).ask, ask_body(question, top_k, history))
            return self.service.ask(**asked.query()).to_dict()
        except RagError as exc:
            raise AskFailed(f"{exc.status} {exc.code}: {exc.message}") from None

    def missing_articles(self, article_ids: set[str]) -> set[str]:
        return article_ids - set(self.service.store.article_states())


class HttpTarget:
    name = "http"

    def __init__(self, base_url: str, timeout: float = 60.0, api_key: str | None = None, max_waits: int = 5):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.headers = {"X-API-Key": api_key} if api_key else {}
        self.max_waits = max_waits  # 429s waited out (as Retry-After says) before a question counts as failed

    def ask(self, question: str, top_k: int, history: Sequence[str] = ()) -> dict:
        body = json.dumps(ask_body(question, top_k, history)).encode("utf-8")
        request = urllib.request.Request(f"{self.base_url}/api/ask", data=body, method="POST",
                                         headers={"Content-Type": "application/json", **self.headers})
        started = time.perf_counter()
        response = self._json(request)
        response.setdefault("timings_ms", {})["http"] = (time.perf_counter() - started) * 1000
        return response

    def missing_articles(self, article_ids: set[str]) -> set[str]:
        missing = set()
        for article_id in article_ids:
            url = f"{self.base_url}/api/articles/{urllib.parse.quote(article_id, safe='')}"
            try:
                self._json(urllib.request.Request(url, headers=self.headers))
            except AskFailed as exc:
                if str(exc).startswith("404"):
                    missing.add(article_id)
        return missing

    def _json(self, request: urllib.request.Request) -> dict:
        for waits in range(self.max_waits + 1):
            try:
                return self._json_once(request)
            except urllib.error.HTTPError as exc:
                retry_after = exc.headers.get("Retry-After", "")
                if exc.code != 429 or waits == self.max_waits or not retry_after.isdigit():
                    raise AskFailed(f"{exc.code} {_error_message(exc)}") from None
                time.sleep(min(int(retry_after), 60))
        raise AssertionError("unreachable")

    def _json_once(self, request: urllib.request.Request) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError:  # an answer with an error status (a URLError too): the caller decides
            raise
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EvalError(f"cannot reach the server at {self.base_url}: {reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise AskFailed(f"{request.full_url} did not answer with JSON") from None
        if not isinstance(data, dict):
            raise AskFailed(f"{request.full_url} answered {type(data).__name__}, not a JSON object")
        return data


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read().decode("utf-8"))["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return exc.reason or "error"


def sample_from_response(question: Question, response: dict | None, error: str | None = None) -> Sample:
    """A Sample from the API's JSON answer (or from an error, with nothing retrieved or answered)."""
    base = dict(question_id=question.id, question=question.question, accepted=question.answers,
                gold_ids=question.docs, unanswerable=question.unanswerable, type=question.type)
    if error is not None or response is None:
        return Sample(**base, error=error or "no response")
    try:
        passages = response.get("passages") or []
        short = response.get("short_answer") or {}
        return Sample(**base, answer=str(response["answer"]), answered=bool(response["answered"]),
                      short_answer=short.get("text") if isinstance(short, dict) else None,
                      ranked_ids=ranked_article_ids(p["article_id"] for p in passages),
                      retrieved_passage_ids=tuple(p["passage_id"] for p in passages),
                      citations=tuple(CitedPassage(int(c["n"]), c["passage_id"], c["article_id"])
                                      for c in response.get("citations") or []),
                      timings_ms={k: float(v) for k, v in (response.get("timings_ms") or {}).items()})
    except (KeyError, TypeError, ValueError) as exc:
        return Sample(**base, error=f"malformed response: {type(exc).__name__} {exc}")


@dataclass
class EvalRun:
    questions: list[Question]
    samples: list[Sample]
    scores: list[dict]
    overall: dict
    by_type: dict[str, dict]
    latency_ms: dict[str, dict]
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def ask_all(target: Target, questions: Sequence[Question], top_k: int = DEFAULT_TOP_K,
            progress: bool = True) -> list[Sample]:
    from tqdm import tqdm

    samples, correct = [], 0
    bar = tqdm(questions, desc="questions", unit="q", disable=None if progress else True, leave=False)
    for question in bar:
        try:
            sample = sample_from_response(question, target.ask(question.question, top_k, question.history))
        except AskFailed as exc:
            sample = sample_from_response(question, None, error=str(exc))
        samples.append(sample)
        correct += score_sample(sample)["correct"]
        bar.set_postfix(correct=f"{correct / len(samples):.0%}", refresh=False)
    return samples


def scored_run(questions: Sequence[Question], samples: Sequence[Sample], meta: dict | None = None,
               warnings: Sequence[str] = ()) -> EvalRun:
    scores = [score_sample(s) for s in samples]
    types = sorted({s.type or UNTYPED for s in samples})
    by_type = {}
    for kind in types:
        chosen = [i for i, s in enumerate(samples) if (s.type or UNTYPED) == kind]
        by_type[kind] = summarize([samples[i] for i in chosen], [scores[i] for i in chosen])
    return EvalRun(list(questions), list(samples), scores, summarize(samples, scores), by_type,
                   latency_summary(samples), dict(meta or {}), list(warnings))


def evaluate(target: Target, questions: Sequence[Question], top_k: int = DEFAULT_TOP_K,
             progress: bool = True, meta: dict | None = None) -> EvalRun:
    """Ask every question through the target and score the answers."""
    started = time.perf_counter()
    warnings = gold_warnings(target, questions)
    samples = ask_all(target, questions, top_k, progress)
    meta = {"mode": target.name, "top_k": top_k, "questions": len(questions),
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 2), **(meta or {})}
    return scored_run(questions, samples, meta, warnings)


def gold_warnings(target: Target, questions: Sequence[Question]) -> list[str]:
    """One warning per question whose gold article ids are not in the corpus (a typo scores as a miss)."""
    missing = target.missing_articles({doc for q in questions for doc in q.docs})
    return [f"question {q.id} (line {q.line}): article(s) {', '.join(sorted(set(q.docs) & missing))} "
            f"not in the corpus" for q in questions if set(q.docs) & missing]


@contextmanager
def in_process_service(settings: Settings, corpus: Sequence[str | Path] = (), reuse_store: bool = False,
                       progress: bool = True, embedder=None) -> Iterator[tuple[object, dict | None]]:
    """A RagService with the corpus ingested: into a fresh temporary store (removed afterwards), or with
    reuse_store into the configured data_dir (incremental: unchanged articles are not embedded again)."""
    from rag.service import build_service

    temporary = None if reuse_store else tempfile.mkdtemp(prefix="newsrag-eval-")
    if temporary:
        settings = settings.replace(data_dir=temporary)
    try:
        service = build_service(settings, embedder)
        with closing(service.store):
            report = service.ingest(list(corpus), progress=progress, prune=False).to_dict() if corpus else None
            yield service, report
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


PIPELINE_SETTINGS = ("embedding_model", "embedding_backend", "chunk_words", "chunk_overlap_sentences",
                     "candidates", "rrf_k", "keyword_weight", "answer_max_sentences", "min_answer_score",
                     "min_answer_coverage", "answer_close_meaning", "answer_same_meaning")


def evaluate_corpus(settings: Settings, corpus: Sequence[str | Path], questions: Sequence[Question],
                    top_k: int = DEFAULT_TOP_K, reuse_store: bool = False, progress: bool = True,
                    meta: dict | None = None, embedder=None) -> EvalRun:
    """Ingest the corpus (fresh store unless reuse_store) and run the questions in process."""
    if not corpus and not reuse_store:
        raise EvalError("name a corpus (--corpus PATH), reuse the configured store (--reuse-store) "
                        "or check a server (--server URL)")
    top_k = max(1, min(top_k, settings.max_top_k))
    with in_process_service(settings, corpus, reuse_store, progress, embedder) as (service, ingest):
        extra = {"corpus": [str(p) for p in corpus], "store": "reused" if reuse_store else "fresh",
                 "ingest": ingest, "settings": {name: getattr(settings, name) for name in PIPELINE_SETTINGS}}
        return evaluate(InProcessTarget(service), questions, top_k, progress, {**extra, **(meta or {})})


def evaluate_server(base_url: str, questions: Sequence[Question], top_k: int = DEFAULT_TOP_K,
                    progress: bool = True, meta: dict | None = None, timeout: float = 60.0,
                    api_key: str | None = None) -> EvalRun:
    """Run the questions against a running server's /api/ask (waiting out its rate limit)."""
    return evaluate(HttpTarget(base_url, timeout, api_key), questions, top_k, progress,
                    {"server": base_url, **(meta or {})})
