"""OpenAI-compatible chat API, so existing chat clients can talk to the corpus.

POST /v1/chat/completions takes the OpenAI request shape: the last message (role user) is the question, the
earlier user/assistant messages are the history (the latest `max_history_turns` of them), system messages are ignored (the service has its own
prompt). The reply is a `chat.completion` object plus `sources` (the citations), `answerer` and `notice`.
With "stream": true it sends `chat.completion.chunk` events ending with `data: [DONE]`; the chunks carry
the checked answer (a chat client cannot take back text it has shown, so the unchecked tokens of an LLM
are not forwarded here; POST /api/ask streams those). GET /v1/models lists the one model, "newsrag".
Sampling fields (max_tokens, temperature, ...) are accepted and ignored: the server's settings decide.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Generator, Iterator

from flask import Blueprint, Response, current_app, jsonify, stream_with_context

from rag.errors import rag_error
from rag.models import Answer, Event, drained
from server.api import json_body
from server.request_models import MODEL_ID, parsed

openai_api = Blueprint("openai_api", __name__, url_prefix="/v1")


def _service():
    return current_app.extensions["rag_service"]


@openai_api.get("/models")
def models():
    return jsonify({"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0,
                                                 "owned_by": "newsrag"}]})


@openai_api.post("/chat/completions")
def chat_completions():
    chat = parsed(current_app.extensions["request_models"].chat, json_body())
    if chat.stream:
        events = _service().ask_stream(**chat.query())  # an empty index raises here, as JSON
        return Response(stream_with_context(completion_chunks(events, chat.model)), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return jsonify(completion_from_answer(_service().ask(**chat.query()).to_dict(), chat.model))


def completion_from_answer(answer: dict, model: str) -> dict:
    return {"id": _completion_id(), "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply_text(answer)},
                         "finish_reason": "stop"}],
            "usage": _usage(answer["standalone_question"], answer["answer"]),
            **_extras(answer)}


def reply_text(answer: dict) -> str:
    """The short answer first (when there is one), then the cited sentences."""
    short = answer.get("short_answer")
    return f"{short['text']}\n\n{answer['answer']}" if short else answer["answer"]


def _extras(answer: dict) -> dict:
    return {"short_answer": answer.get("short_answer"), "sources": answer["citations"],
            "answerer": answer["answerer"], "notice": answer["notice"], "answered": answer["answered"]}


def _usage(question: str, text: str) -> dict:
    """Word counts (the service does not see the LLM's tokenizer); clients only display them."""
    prompt, completion = len(question.split()), len(text.split())
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion_chunks(events: Generator[Event, None, Answer], model: str) -> Iterator[str]:
    """`chat.completion.chunk` frames of the checked answer, then `data: [DONE]`; a failure becomes a
    frame with the project's error object before [DONE]."""
    ident, created = _completion_id(), int(time.time())

    def frame(delta: dict, finish: str | None = None, **extra) -> str:
        chunk = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield frame({"role": "assistant", "content": ""})
    try:
        answer = drained(events).to_dict()
        for piece in re.findall(r"\S+\s*", reply_text(answer)):
            yield frame({"content": piece})
        yield frame({}, "stop", **_extras(answer))
    except Exception as exc:
        yield f"data: {json.dumps(rag_error(exc).to_dict())}\n\n"
    yield "data: [DONE]\n\n"
