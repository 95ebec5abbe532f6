"""Generative answers through a configured LLM (llama-index integrations), checked before they are returned.

build_llm(settings) makes the llama-index LLM for llm_provider `openai` (any OpenAI-compatible server),
`ollama` or `llamacpp` (a local GGUF file); the integrations are imported only here and only then, so the
default install (extractive answers) never needs them. GenerativeAnswerer numbers the retrieved passages
in the answer prompt, streams the model's tokens, runs the citation checker (rag/check.py) on the result
and falls back to the extractive answer, with a notice, when the model is down, slow or unsupported.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Sequence

import httpx

from rag.answer import NO_PASSAGES, AnswerOf, ExtractiveAnswerer
from rag.check import CheckResult, CitationChecker
from rag.config import Settings
from rag.embedding import Embedder
from rag.errors import ConfigError, LLMTimeout, LLMUnavailable, RagError
from rag.models import Answer, Passage, Token, Turn, drained

log = logging.getLogger(__name__)

PACKAGED_PROMPTS = Path(__file__).resolve().parent / "prompts"
PROMPT_PLACEHOLDERS = {"answer.txt": ("{passages}", "{question}"), "rewrite.txt": ("{history}", "{question}")}
REWRITE_MAX_CHARS = 300  # a longer "rewrite" is the model answering or rambling: keep the heuristic's


@dataclass(frozen=True)
class Prompts:
    answer: str
    rewrite: str


def load_prompts(prompts_dir: str = "") -> Prompts:
    """answer.txt and rewrite.txt from prompts_dir, or the packaged ones; ConfigError names what is missing."""
    folder = Path(prompts_dir).expanduser() if prompts_dir else PACKAGED_PROMPTS
    texts = {}
    for name, placeholders in PROMPT_PLACEHOLDERS.items():
        path = folder / name
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            raise ConfigError(f"prompt file {path} is missing: prompts_dir must hold "
                              f"{' and '.join(PROMPT_PLACEHOLDERS)}") from None
        missing = [p for p in placeholders if p not in texts[name]]
        if missing:
            raise ConfigError(f"prompt file {path} lacks the placeholder(s) {', '.join(missing)}")
    return Prompts(answer=texts["answer.txt"], rewrite=texts["rewrite.txt"])


def render(template: str, **values: str) -> str:
    """Fill {name} placeholders; other braces in the template stay as they are."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def passages_block(passages: Sequence[Passage]) -> str:
    return "\n".join(f"[{n}] {p.title} ({p.date or 'undated'}, {p.source or 'unknown source'}): "
                     f"{' '.join(p.text.split())}" for n, p in enumerate(passages, start=1))


def history_block(history: Sequence[Turn]) -> str:
    return "\n".join(f"{'User' if t.role == 'user' else 'Assistant'}: {' '.join(t.content.split())}"
                     for t in history)


# --- the llama-index LLM -----------------------------------------------------------------------------
def build_llm(settings: Settings) -> Any:
    """The llama-index LLM for settings.llm_provider (ConfigError when its integration is missing)."""
    builders = {"openai": _openai_like, "ollama": _ollama, "llamacpp": _llama_cpp}
    if settings.llm_provider not in builders:
        raise ConfigError(f"llm_provider {settings.llm_provider!r} is not one of {', '.join(builders)}")
    if settings.llm_provider == "llamacpp" and not Path(settings.llm_model).expanduser().is_file():
        raise ConfigError("llm_model must be the path of a GGUF file with llm_provider 'llamacpp': "
                          f"{Path(settings.llm_model).expanduser()}")  # before any import: the likelier mistake
    try:
        return builders[settings.llm_provider](settings)
    except ImportError as exc:
        raise ConfigError(f"llm_provider {settings.llm_provider!r} needs the optional LLM packages "
                          f"(pip install 'newsrag[llm]'): {exc}") from None


def _openai_like(settings: Settings) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    if not settings.llm_base_url and not settings.llm_api_key:
        raise ConfigError("llm_provider 'openai' without llm_base_url means OpenAI itself: set llm_api_key")
    return OpenAILike(model=settings.llm_model or "default", api_base=settings.llm_base_url or None,
                      api_key=settings.llm_api_key or "not-needed", is_chat_model=True,
                      max_tokens=settings.llm_max_tokens, temperature=settings.llm_temperature,
                      timeout=settings.llm_timeout, max_retries=0)


def _ollama(settings: Settings) -> Any:
    from llama_index.llms.ollama import Ollama

    return Ollama(model=settings.llm_model, base_url=settings.llm_base_url or "http://127.0.0.1:11434",
                  request_timeout=settings.llm_timeout, temperature=settings.llm_temperature,
                  additional_kwargs={"num_predict": settings.llm_max_tokens})


def _llama_cpp(settings: Settings) -> Any:
    from llama_index.llms.llama_cpp import LlamaCPP

    path = Path(settings.llm_model).expanduser()
    llm = LlamaCPP(model_path=str(path), temperature=settings.llm_temperature,
                   max_new_tokens=settings.llm_max_tokens, context_window=4096, verbose=False)
    llm.messages_to_prompt = _gguf_chat_format(llm._model) or llm.messages_to_prompt
    return llm


def _gguf_chat_format(model: Any) -> Callable | None:
    """The GGUF file's own chat template as a llama-index messages_to_prompt, when it has one."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = model.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    token = model._model.token_get_text
    formatter = Jinja2ChatFormatter(template, eos_token=token(model.token_eos()),
                                    bos_token=token(model.token_bos()), add_generation_prompt=True)
    return lambda messages: formatter(messages=[{"role": m.role.value, "content": m.content or ""}
                                                for m in messages]).prompt


def model_label(settings: Settings) -> str:
    if settings.llm_provider == "llamacpp":
        return Path(settings.llm_model).stem
    return settings.llm_model or settings.llm_provider


# --- talking to it with a deadline ---------------------------------------------------------------------
def llm_error(exc: BaseException, settings: Settings) -> RagError:
    """The error a user sees for a failed LLM call: 504 for a timeout, 502 for anything else."""
    timeouts = (TimeoutError, httpx.TimeoutException)  # Python's (a local model busy), Ollama's, a streamed reply's
    if settings.llm_provider == "openai":
        from openai import APITimeoutError

        timeouts += (APITimeoutError,)
    if isinstance(exc, timeouts):
        return LLMTimeout(f"the language model did not answer within {settings.llm_timeout:g} s")
    where = f" at {settings.llm_base_url}" if settings.llm_base_url else ""
    return LLMUnavailable(f"the language model{where} could not be reached or failed "
                          f"({type(exc).__name__}); check llm_base_url, llm_model and that the server is running")


class DeltaStream:
    """The model's text deltas for one chat, produced in a worker thread so that a deadline holds for
    the whole answer, whatever the provider's own timeouts do (a local GGUF model has none)."""

    def __init__(self, llm: Any, messages: list, settings: Settings, lock: threading.Lock | None = None):
        self.llm, self.messages, self.settings, self.lock = llm, messages, settings, lock
        self.deadline = time.monotonic() + settings.llm_timeout
        self.items: queue.Queue = queue.Queue()
        self.stop = threading.Event()

    def __iter__(self) -> Iterator[str]:
        threading.Thread(target=self._produce, name="llm-stream", daemon=True).start()
        try:
            while True:
                kind, value = self._next()
                if kind == "end":
                    return
                if kind == "error":
                    raise llm_error(value, self.settings) from value
                yield value
        finally:
            self.stop.set()  # the worker ends at its next token (a client left, or the deadline passed)

    def _next(self) -> tuple[str, Any]:
        try:
            return self.items.get(timeout=max(self.deadline - time.monotonic(), 0))
        except queue.Empty:
            raise LLMTimeout(f"the language model did not answer within {self.settings.llm_timeout:g} s") from None

    def _produce(self) -> None:
        try:
            if self.lock is None:
                self._generate()
            elif self.lock.acquire(timeout=self.settings.llm_timeout):
                try:
                    self._generate()
                finally:
                    self.lock.release()
            else:
                raise TimeoutError("the local model is busy with another answer")
            self.items.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which maps it
            self.items.put(("error", exc))

    def _generate(self) -> None:
        for response in self.llm.stream_chat(self.messages):
            if self.stop.is_set():
                return
            if response.delta:
                self.items.put(("delta", response.delta))


# --- the answerer ------------------------------------------------------------------------------------
class GenerativeAnswerer:
    """Passages -> the LLM's answer, checked: only sentences their cited passages support are kept."""

    def __init__(self, llm: Any, embedder: Embedder, extractive: ExtractiveAnswerer, settings: Settings,
                 prompts: Prompts | None = None):
        self.llm = llm
        self.extractive = extractive
        self.settings = settings
        self.prompts = prompts or load_prompts(settings.prompts_dir)
        self.checker = CitationChecker(embedder, extractive.analyzer)
        self.name = f"llm:{model_label(settings)}"
        self._lock = threading.Lock() if settings.llm_provider == "llamacpp" else None  # one model, one caller

    def deltas(self, prompt: str) -> DeltaStream:
        from llama_index.core.llms import ChatMessage

        return DeltaStream(self.llm, [ChatMessage(role="user", content=prompt)], self.settings, self._lock)

    def stream(self, question: str, passages: list[Passage]) -> Generator[Token, None, Answer]:
        """The model's text deltas as they arrive; returns the checked Answer."""
        if not passages:
            return Answer(question=question, answer=NO_PASSAGES, answered=False, answerer=self.name)
        started = time.perf_counter()
        prompt = render(self.prompts.answer, passages=passages_block(passages), question=question)
        parts: list[str] = []
        first = None
        try:
            for delta in self.deltas(prompt):
                first = first or time.perf_counter()
                parts.append(delta)
                yield Token(delta)
        except (LLMTimeout, LLMUnavailable) as exc:
            if not self.settings.llm_fallback:
                raise
            log.warning("LLM failed, answering extractively: %s", exc.message)
            return self.fallback(question, passages, _fallback_notice(exc, self.settings))
        generated = time.perf_counter()
        answer = self.checked(question, "".join(parts), passages)
        answer.timings_ms.update({"llm_first_token": ((first or generated) - started) * 1000,
                                  "llm": (generated - started) * 1000,
                                  "check": (time.perf_counter() - generated) * 1000})
        return answer

    def checked(self, question: str, generated: str, passages: list[Passage]) -> Answer:
        result = self.checker.check(question, generated, passages)
        if result.empty:
            notice = ("The language model's answer had no sentence that its cited passages support; "
                      "this answer was extracted from the passages instead.")
            answer = self.fallback(question, passages, notice)
        else:
            answer = Answer(question=question, answer=result.text, answered=result.answered,
                            answerer=self.name, citations=result.citations, passages=passages,
                            notice=_removed_notice(result))
        answer.check = {"generated": generated, **result.to_dict(), "fallback": result.empty}
        return answer

    def fallback(self, question: str, passages: list[Passage], notice: str) -> Answer:
        answer = drained(self.extractive.stream(question, passages))
        answer.notice = notice
        return answer

    # --- follow-up questions -------------------------------------------------------------------------
    def rewrite(self, question: str, history: Sequence[Turn], answer_of: AnswerOf | None = None) -> str:
        """A standalone question: the LLM rewrites a follow-up the heuristic says leans on the history;
        the heuristic's version stands when the LLM fails or its rewrite drops every carried name."""
        heuristic = self.extractive.rewrite(question, history, answer_of)
        if heuristic == question:
            return question
        prompt = render(self.prompts.rewrite, history=history_block(history), question=question)
        try:
            rewritten = _first_line("".join(self.deltas(prompt)))
        except (LLMTimeout, LLMUnavailable) as exc:
            log.warning("LLM rewrite failed, using the heuristic: %s", exc.message)
            return heuristic
        if not self.acceptable_rewrite(rewritten, question, history):
            log.info("LLM rewrite %r of %r rejected; using the heuristic %r", rewritten, question, heuristic)
            return heuristic
        return rewritten

    def answer_findings(self, question: str, passages: list[Passage]):
        """What the extractive answerer finds (for a follow-up's pronoun: see rag.followup)."""
        return self.extractive.answer_findings(question, passages)

    def acceptable_rewrite(self, rewritten: str, question: str, history: Sequence[Turn]) -> bool:
        """A question of sensible length that names something from the previous user turn, keeps at least
        half of the follow-up's own content words and is not just the previous question again."""
        previous = next(t.content for t in reversed(history) if t.role == "user")
        carried = [e for e in self.extractive.analyzer.names(previous) if e.lower() not in question.lower()]
        own = self.checker.terms(question)
        kept = own & self.checker.terms(rewritten)
        return (rewritten.endswith("?") and len(rewritten) <= REWRITE_MAX_CHARS
                and any(e.lower() in rewritten.lower() for e in carried)
                and len(kept) * 2 >= len(own)
                and rewritten.lower().rstrip("?") != previous.strip().lower().rstrip("?"))


def _first_line(text: str) -> str:
    line = next((line for line in text.strip().splitlines() if line.strip()), "")
    line = re.sub(r"^[^:]{0,60}\bquestion\b[^:]{0,30}:\s*", "", line, flags=re.IGNORECASE)  # "Rewritten question:"
    return " ".join(line.strip().strip('"“”\'').split())


def _fallback_notice(exc: RagError, settings: Settings) -> str:
    if isinstance(exc, LLMTimeout):
        return (f"The language model did not answer within {settings.llm_timeout:g} s; "
                "this answer was extracted from the passages instead.")
    return ("The language model could not be reached; this answer was extracted from the passages instead.")


def _removed_notice(result: CheckResult) -> str | None:
    removed = len(result.removed)
    if not removed:
        return None
    return (f"{removed} sentence{'s' if removed > 1 else ''} of the language model's answer "
            f"{'were' if removed > 1 else 'was'} removed because the cited passages do not support "
            f"{'them' if removed > 1 else 'it'}.")
