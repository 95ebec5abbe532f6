"""Generative answers without a real model: the citation checker on crafted answers against real retrieved
passages, the LLM down or slow (fallback, 502, 504), prompts, follow-up rewriting, and /v1/chat/completions.

Where an LLM has to answer, a scripted OpenAI-compatible server on loopback stands in (it returns the text a
test gives it, token by token, optionally after a delay); tests/test_llm_server.py runs the same paths
against a real model (llama-cpp-python's server with SmolLM2)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import openai
import pytest

from rag.answer import NOT_FOUND
from rag.check import SUPPORT_MIN, CitationChecker, split_answer
from rag.errors import ConfigError, LLMTimeout, LLMUnavailable
from rag.llm import GenerativeAnswerer, llm_error, load_prompts
from rag.models import Turn
from rag.service import RagService, build_answerer
from server import create_app
from tests.conftest import make_settings
from tests.test_streaming import read_events

VARGA = "Who did Ilse Varga meet in Amberlin?"
STRIKE = "How many workers joined the rail strike?"


# --- the checker on crafted answers ------------------------------------------------------------------
@pytest.fixture(scope="module")
def checker(embedder, analyzer):
    return CitationChecker(embedder, analyzer)


def retrieved(corpus_service, question):
    return corpus_service.retriever.retrieve(question, 5, None).passages


def number_of(passages, text: str) -> int:
    """The 1-based number of the first retrieved passage holding text."""
    return next(n for n, p in enumerate(passages, start=1) if text in p.text)


def unrelated_number(passages, text: str) -> int:
    return next(n for n, p in enumerate(passages, start=1) if text not in p.text)


def test_split_answer_keeps_markers_with_their_sentence():
    pieces = split_answer("Kellan met Varga [1]. They signed a deal. [2][3] The passages do not say more [1, 4].")
    assert pieces == [("Kellan met Varga.", [1]), ("They signed a deal.", [2, 3]),
                      ("The passages do not say more.", [1, 4])]


def test_supported_sentence_kept_and_renumbered_with_highlights(corpus_service, checker):
    passages = retrieved(corpus_service, VARGA)
    n = number_of(passages, "Dario Kellan")
    result = checker.check(VARGA, f"Varga held talks with Foreign Minister Dario Kellan [{n}].", passages)
    assert result.text == "Varga held talks with Foreign Minister Dario Kellan. [1]"
    assert result.answered and not result.removed
    (citation,) = result.citations
    assert citation.n == 1 and citation.passage == passages[n - 1]
    highlighted = " ".join(citation.passage.text[s:e] for s, e in citation.highlights)
    assert "Dario Kellan" in highlighted


def test_out_of_range_markers_are_dropped(corpus_service, checker):
    passages = retrieved(corpus_service, VARGA)
    n = number_of(passages, "Dario Kellan")
    result = checker.check(VARGA, f"Varga held talks with Dario Kellan [{n}][9]. Kellan is from Serevia [0].",
                           passages)
    assert result.text == "Varga held talks with Dario Kellan. [1]"
    assert result.to_dict()["dropped_markers"] == [0, 9]
    assert [(s.text, s.reason) for s in result.removed] == [("Kellan is from Serevia.", "cites no retrieved passage")]


def test_fabricated_sentence_citing_a_passage_is_removed(corpus_service, checker):
    passages = retrieved(corpus_service, STRIKE)
    n = number_of(passages, "18,000")
    generated = (f"About 18,000 rail workers walked off the job [{n}]. "
                 f"The strike was called by the teachers' union over school closures [{n}]. "
                 f"About 80,000 rail workers joined the strike [{n}].")
    result = checker.check(STRIKE, generated, passages)
    assert result.text == "About 18,000 rail workers walked off the job. [1]"
    removed = {s.text: s for s in result.removed}
    assert set(removed) == {"The strike was called by the teachers' union over school closures.",
                            "About 80,000 rail workers joined the strike."}
    assert all(s.support < SUPPORT_MIN for s in removed.values())


def test_true_sentence_citing_the_wrong_passage_is_removed(corpus_service, checker):
    passages = retrieved(corpus_service, VARGA)
    wrong = unrelated_number(passages, "Dario Kellan")
    result = checker.check(VARGA, f"Ilse Varga met the Serevian Foreign Minister Dario Kellan [{wrong}].", passages)
    assert result.empty and result.removed[0].reason.startswith(f"not supported by [{wrong}]")


def test_sentence_without_a_marker_is_removed_but_a_refusal_stands(corpus_service, checker):
    passages = retrieved(corpus_service, "What is the capital of France?")
    result = checker.check("What is the capital of France?", "The capital of France is Paris.", passages)
    assert result.empty and result.removed[0].reason.startswith("cites no passage and none supports it")
    result = checker.check("What is the capital of France?", "The passages do not say.", passages)
    assert not result.empty and not result.answered and result.citations == []
    assert result.text == "The passages do not say."


def test_an_uncited_sentence_a_passage_clearly_supports_gets_its_marker(corpus_service, checker):
    question = "How much grain did Valdoria harvest?"
    passages = retrieved(corpus_service, question)
    n = number_of(passages, "14.6 million")
    result = checker.check(question, "Valdoria harvested a record 14.6 million tonnes of grain. "
                                     "The harvest was 16.4 million tonnes.", passages)
    assert result.text == "Valdoria harvested a record 14.6 million tonnes of grain. [1]"
    assert result.citations[0].passage == passages[n - 1]
    assert result.to_dict()["attributed"] == 1
    assert [s.text for s in result.removed] == ["The harvest was 16.4 million tonnes."]
    tautology = checker.check("Who is the mayor of Merrowick?", "The mayor of Merrowick is the town's mayor.",
                              retrieved(corpus_service, "Who is the mayor of Merrowick?"))
    assert tautology.empty  # SmolLM2 wrote this; it adds nothing to the question


@pytest.mark.parametrize("question, claim, source", [
    ("Who is the mayor of Merrowick?", "The mayor of Merrowick is Clara Ventis", "Clara Ventis"),
    ("How much grain did Valdoria harvest?", "Valdoria harvested a record 14.6 million tonnes of grain",
     "14.6 million"),
    ("How much grain did Valdoria harvest?", "The harvest was 14.6 million tonnes, a rise of 11 percent",
     "14.6 million"),
])
def test_paraphrases_of_the_passage_pass(corpus_service, checker, question, claim, source):
    passages = retrieved(corpus_service, question)
    n = number_of(passages, source)
    assert checker.check(question, f"{claim} [{n}].", passages).text == f"{claim}. [1]"


@pytest.mark.parametrize("question, claim, source", [
    ("Who is the mayor of Merrowick?", "The mayor of Merrowick is John Smith", "Clara Ventis"),
    ("How much grain did Valdoria harvest?", "The harvest was 16.4 million tonnes", "14.6 million"),
    ("How much grain did Valdoria harvest?", "The harvest failed because of a drought", "14.6 million"),
    (VARGA, "Varga met Prime Minister Tomas Reyl in Halvik", "Dario Kellan"),
])
def test_invented_claims_fail(corpus_service, checker, question, claim, source):
    passages = retrieved(corpus_service, question)
    n = number_of(passages, source)
    assert checker.check(question, f"{claim} [{n}].", passages).empty


# --- a scripted OpenAI-compatible server on loopback -------------------------------------------------
class ScriptedLLM(ThreadingHTTPServer):
    """Answers /v1/chat/completions with `reply(prompt)`, word by word when asked to stream, after
    `delay` seconds; keeps the prompts it was sent."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self.reply = lambda prompt: "The passages do not say."
        self.delay = 0.0
        self.prompts: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/v1"


class _ScriptedHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        self.server.prompts.append(prompt)
        time.sleep(self.server.delay)
        text = self.server.reply(prompt)
        if not body.get("stream"):
            return self._send("application/json", json.dumps(_completion(text)).encode())
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in re.findall(r"\s*\S+", text):  # the text exactly, one word at a time
            self.wfile.write(f"data: {json.dumps(_chunk({'content': piece}))}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(f"data: {json.dumps(_chunk({}, 'stop'))}\n\ndata: [DONE]\n\n".encode())

    def _send(self, kind: str, data: bytes):
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _chunk(delta: dict, finish=None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(text: str) -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


@pytest.fixture
def scripted_llm():
    server = ScriptedLLM()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def llm_service(corpus_service, tmp_path, **llm_settings) -> RagService:
    """A service on the fixture corpus's store whose answerer talks to the configured LLM."""
    s = corpus_service
    settings = make_settings(tmp_path, llm_provider="openai", llm_model="scripted", **llm_settings)
    answerer = build_answerer(settings, s.embedder, s.analyzer, s.answerer.sentences_of)
    return RagService(settings, s.store, s.embedder, s.retriever, answerer, analyzer=s.analyzer)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- generative answers through the service ----------------------------------------------------------
def test_llm_answer_is_checked_and_named(corpus_service, tmp_path, scripted_llm):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    passages = retrieved(corpus_service, STRIKE)
    n = number_of(passages, "18,000")
    scripted_llm.reply = lambda prompt: (f"About 18,000 rail workers walked off the job [{n}]. "
                                         f"They were joined by 5,000 dock workers [{n}].")
    answer = service.ask(STRIKE)
    assert answer.answerer == "llm:scripted" and answer.answered
    assert answer.answer == "About 18,000 rail workers walked off the job. [1]"
    assert answer.citations[0].passage.passage_id == passages[n - 1].passage_id
    assert "removed" in answer.notice and answer.check["removed"][0]["sentence"].startswith("They were joined")
    assert answer.check["generated"] == scripted_llm.reply("")
    assert answer.timings_ms["llm"] > 0 and answer.timings_ms["check"] > 0


def test_prompt_numbers_the_passages_and_holds_the_question(corpus_service, tmp_path, scripted_llm):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    answer = service.ask(VARGA)
    (prompt,) = scripted_llm.prompts
    for n, passage in enumerate(answer.passages, start=1):
        assert f"[{n}] {passage.title} (" in prompt
    assert VARGA in prompt and "[6]" not in prompt
    assert not answer.answered and answer.answer == "The passages do not say." and answer.citations == []


def test_nothing_supported_falls_back_to_the_extractive_answer(corpus_service, tmp_path, scripted_llm):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    scripted_llm.reply = lambda prompt: "Ilse Varga met the Pope in Rome [1]. The talks were about football [2]."
    answer = service.ask(VARGA)
    assert answer.answerer == "extractive" and "Dario Kellan" in answer.answer
    assert "no sentence that its cited passages support" in answer.notice and answer.check["fallback"] is True
    assert corpus_service.ask(VARGA).answer == answer.answer


def test_streaming_sends_the_models_tokens_then_the_checked_answer(corpus_service, tmp_path, scripted_llm):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    passages = retrieved(corpus_service, STRIKE)
    n = number_of(passages, "18,000")
    generated = f"About 18,000 rail workers walked off the job [{n}]. Trains ran normally [{n}]."
    scripted_llm.reply = lambda prompt: generated
    events = read_events(create_app(service=service).test_client().post(
        "/api/ask", json={"question": STRIKE, "stream": True}))
    names = [name for name, _ in events]
    assert names[0] == "passages" and names[-3:] == ["answer", "citations", "done"]
    assert set(names[1:-3]) == {"token"} and len(names) - 4 == len(generated.split(" "))
    assert "".join(data["text"] for name, data in events if name == "token").strip() == generated
    final = dict(events)
    assert final["answer"]["answer"] == "About 18,000 rail workers walked off the job. [1]"
    assert final["answer"]["answerer"] == "llm:scripted" and "removed" in final["answer"]["notice"]
    assert [c["passage_id"] for c in final["citations"]["citations"]] == [passages[n - 1].passage_id]
    assert final["done"]["timings_ms"]["llm_first_token"] <= final["done"]["timings_ms"]["llm"]


def test_health_names_the_answerer(corpus_service, tmp_path, scripted_llm, client):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    assert create_app(service=service).test_client().get("/api/health").get_json()["answerer"] == "llm:scripted"
    assert client.get("/api/health").get_json()["answerer"] == "extractive"


# --- the LLM down or slow ----------------------------------------------------------------------------
def test_llm_down_falls_back_with_a_notice(corpus_service, tmp_path):
    service = llm_service(corpus_service, tmp_path, llm_base_url=f"http://127.0.0.1:{closed_port()}/v1")
    answer = service.ask(VARGA)
    assert answer.answerer == "extractive" and "Dario Kellan" in answer.answer
    assert answer.notice == ("The language model could not be reached; this answer was extracted from the "
                             "passages instead.")


def test_llm_down_without_fallback_is_a_502(corpus_service, tmp_path):
    service = llm_service(corpus_service, tmp_path, llm_base_url=f"http://127.0.0.1:{closed_port()}/v1",
                          llm_fallback=False)
    response = create_app(service=service).test_client().post("/api/ask", json={"question": VARGA})
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "llm_unavailable" and "could not be reached" in error["message"]


def test_slow_llm_falls_back_after_the_timeout(corpus_service, tmp_path, scripted_llm):
    scripted_llm.delay = 3.0
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url, llm_timeout=1.0)
    started = time.perf_counter()
    answer = service.ask(VARGA)
    assert time.perf_counter() - started < 2.5
    assert answer.answerer == "extractive" and "Dario Kellan" in answer.answer
    assert answer.notice.startswith("The language model did not answer within 1 s;")


def test_slow_llm_without_fallback_is_a_504_or_an_error_event(corpus_service, tmp_path, scripted_llm):
    scripted_llm.delay = 3.0
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url, llm_timeout=1.0,
                          llm_fallback=False)
    client = create_app(service=service).test_client()
    response = client.post("/api/ask", json={"question": VARGA})
    assert response.status_code == 504 and response.get_json()["error"]["code"] == "llm_timeout"
    events = read_events(client.post("/api/ask", json={"question": VARGA, "stream": True}))
    assert [name for name, _ in events] == ["passages", "error"] and events[1][1]["error"]["status"] == 504


def test_the_clients_timeouts_are_504_and_other_failures_502(tmp_path):
    settings, request = make_settings(tmp_path, llm_provider="openai"), httpx.Request("POST", "http://127.0.0.1/")
    slow = [TimeoutError(), httpx.ReadTimeout("slow"), openai.APITimeoutError(request)]
    down = [httpx.ConnectError("refused"), openai.APIConnectionError(request=request), ValueError()]
    assert [type(llm_error(exc, settings)) for exc in slow + down] == [LLMTimeout] * 3 + [LLMUnavailable] * 3


# --- prompts and follow-ups --------------------------------------------------------------------------
def test_prompts_dir_must_hold_both_prompts(tmp_path):
    (tmp_path / "answer.txt").write_text("Passages: {passages}\nQ: {question}\n")
    with pytest.raises(ConfigError, match="rewrite.txt is missing"):
        load_prompts(str(tmp_path))
    (tmp_path / "rewrite.txt").write_text("Rewrite: {question}\n")
    with pytest.raises(ConfigError, match=r"lacks the placeholder\(s\) \{history\}"):
        load_prompts(str(tmp_path))
    (tmp_path / "rewrite.txt").write_text("{history}\nRewrite: {question}\n")
    assert load_prompts(str(tmp_path)).answer.startswith("Passages:")
    assert "{passages}" in load_prompts().answer and "{history}" in load_prompts().rewrite


def test_follow_up_is_rewritten_by_the_llm(corpus_service, tmp_path, scripted_llm):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    scripted_llm.reply = lambda prompt: ("What did Ilse Varga and Dario Kellan agree on in Amberlin?"
                                         if "Last question" in prompt or "last question" in prompt
                                         else "The passages do not say.")
    history = [Turn("user", VARGA), Turn("assistant", "She met Dario Kellan. [1]")]
    answer = service.ask("What did they agree on?", history=history)
    assert answer.standalone_question == "What did Ilse Varga and Dario Kellan agree on in Amberlin?"
    assert "User: Who did Ilse Varga meet in Amberlin?" in scripted_llm.prompts[0]
    assert "What did they agree on?" in scripted_llm.prompts[0]


@pytest.mark.parametrize("bad_rewrite", [
    "They agreed on a new product [2].",  # an answer, not a question
    "What did they agree on?",  # carries no name
    "Who did Ilse Varga meet in Amberlin?",  # the previous question again
    "Rewritten question: When was the Amber Hall built in Amberlin?",  # drops what is asked
])
def test_a_bad_llm_rewrite_gives_way_to_the_heuristic(corpus_service, tmp_path, scripted_llm, bad_rewrite):
    service = llm_service(corpus_service, tmp_path, llm_base_url=scripted_llm.base_url)
    scripted_llm.reply = lambda prompt: bad_rewrite
    history = [Turn("user", VARGA)]
    assert service.rewriter("What did they agree on?", history) == "What did they agree on? (Ilse Varga, Amberlin)"


def test_rewrite_with_the_llm_down_uses_the_heuristic(corpus_service, tmp_path):
    service = llm_service(corpus_service, tmp_path, llm_base_url=f"http://127.0.0.1:{closed_port()}/v1")
    assert service.rewriter("What did they agree on?", [Turn("user", VARGA)]) == \
        "What did they agree on? (Ilse Varga, Amberlin)"
    assert service.rewriter("Who is the mayor of Merrowick?", [Turn("user", VARGA)]) == "Who is the mayor of Merrowick?"


def test_llm_settings_are_checked_when_the_service_is_built(tmp_path, embedder):
    with pytest.raises(ConfigError, match="llm_api_key"):
        build_answerer(make_settings(tmp_path, llm_provider="openai"), embedder, None, None)
    with pytest.raises(ConfigError, match="GGUF"):
        build_answerer(make_settings(tmp_path, llm_provider="llamacpp", llm_model=str(tmp_path / "none.gguf")),
                       embedder, None, None)
    assert isinstance(build_answerer(make_settings(tmp_path, llm_provider="ollama", llm_model="llama3.2"), embedder,
                                     None, None), GenerativeAnswerer)


# --- /v1: OpenAI-compatible chat completions (the extractive answerer) -------------------------------
def test_chat_completion_shape_and_sources(client):
    response = client.post("/v1/chat/completions", json={
        "model": "newsrag", "messages": [{"role": "system", "content": "Be brief."},
                                         {"role": "user", "content": VARGA}],
        "max_tokens": 100, "temperature": 0.2, "user": "someone"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert body["model"] == "newsrag" and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and "Dario Kellan" in choice["message"]["content"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    assert body["sources"] and body["sources"][0]["n"] == 1 and body["sources"][0]["highlights"]
    assert body["answerer"] == "extractive" and body["answered"] is True


def test_chat_completion_uses_earlier_messages_as_history(client):
    response = client.post("/v1/chat/completions", json={"messages": [
        {"role": "user", "content": "Tell me about the Kaldor rail strike"},
        {"role": "assistant", "content": "About 18,000 rail workers walked off the job. [1]"},
        {"role": "user", "content": [{"type": "text", "text": "What pay rise do they want?"}]}]})
    body = response.get_json()
    assert "9 percent" in body["choices"][0]["message"]["content"]
    assert {s["article_id"] for s in body["sources"]} == {"rail-strike"}


def test_a_long_chat_keeps_its_latest_turns(client, app):
    """A chat client sends the whole conversation every time: the 12th question of a chat is answered from the
    latest turns, as if those were all it had sent."""
    limit = app.extensions["rag_service"].settings.max_history_turns
    old = [{"role": role, "content": f"Earlier question {n}" if role == "user" else f"Earlier answer {n}"}
           for n in range(limit) for role in ("user", "assistant")]
    recent = [{"role": "user", "content": "Tell me about the Kaldor rail strike"},
              {"role": "assistant", "content": "About 18,000 rail workers walked off the job. [1]"}]
    question = {"role": "user", "content": "What pay rise do they want?"}
    long_chat = client.post("/v1/chat/completions", json={"messages": old + recent + [question]})
    assert long_chat.status_code == 200
    latest = old[len(old) + len(recent) - limit:] + recent
    assert len(latest) == limit
    alone = client.post("/v1/chat/completions", json={"messages": latest + [question]}).get_json()
    body = long_chat.get_json()
    assert body["choices"][0]["message"]["content"] == alone["choices"][0]["message"]["content"]
    assert "9 percent" in body["choices"][0]["message"]["content"]


def test_chat_completion_stream_ends_with_done(client):
    messages = [{"role": "user", "content": VARGA}]
    whole = client.post("/v1/chat/completions", json={"messages": messages}).get_json()
    response = client.post("/v1/chat/completions", json={"messages": messages, "stream": True})
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    frames = [f.removeprefix("data: ") for f in response.get_data(as_text=True).strip().split("\n\n")]
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(f) for f in frames[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == whole["choices"][0]["message"]["content"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["sources"] == whole["sources"]


@pytest.mark.parametrize("payload, status, part", [
    ({}, 400, "'messages'"),
    ({"messages": []}, 400, "'messages'"),
    ({"messages": [{"role": "robot", "content": "hi"}]}, 400, "role"),
    ({"messages": [{"role": "user", "content": 42}]}, 400, "content"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}, 400, "text parts"),
    ({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}, 400, "last message"),
    ({"messages": [{"role": "user", "content": "   "}]}, 400, "empty"),
    ({"messages": [{"role": "user", "content": "Who?"}], "stream": "yes"}, 400, "stream"),
    ({"messages": [{"role": "user", "content": "x" * 2001}]}, 413, "2000"),
])
def test_chat_completion_rejects_bad_input(client, payload, status, part):
    response = client.post("/v1/chat/completions", json=payload)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status and part in error["message"]


def test_models_lists_newsrag(client):
    body = client.get("/v1/models").get_json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["newsrag"]


def test_not_found_text_is_unchanged_by_the_checker(corpus_service):
    """The extractive path is untouched: no check field, the usual not-found text."""
    answer = corpus_service.ask("What is the capital of France?")
    assert answer.answer == NOT_FOUND and answer.check is None
