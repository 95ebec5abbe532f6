"""The requests the server takes, declared once: the routes, the CLI and the evaluation validate with these pydantic
models, and /api/openapi.json is generated from them. request_models(settings) builds them with the settings'
limits, so the description states what the server enforces. A failure becomes the API's error (error_from)."""

import datetime as dt
import functools
import re
from types import SimpleNamespace
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError,
                      WrapValidator, model_validator)
from pydantic_core import PydanticCustomError, PydanticKnownError
from pydantic_core.core_schema import ErrorType

import rag.models as domain
from rag.config import Settings
from rag.errors import BadRequest, PayloadTooLarge, RagError
from rag.service import question_from

MODEL_ID = "newsrag"  # the one model /v1 offers
ARTICLES_PAGE, MAX_ARTICLES_PAGE = 1000, 10_000  # GET /api/articles: ids and origins a page
Model = TypeVar("Model", bound=BaseModel)
BUILT_IN = frozenset(get_args(ErrorType))  # pydantic's error types; ours (the others) are whole sentences
READS = {"missing": "is required", "must_be": "must be {what}", "string_type": "must be a string",
         "bool_type": "must be true or false", "int_type": "must be a whole number", "list_type": "must be a list",
         "model_type": "must be a JSON object", "literal_error": "must be {expected}",
         "string_too_long": "is over {max_length} characters",
         "too_long": "has {actual_length} items; the limit is {max_length}",
         "too_short": "has {actual_length} items; it needs at least {min_length}"}


def parsed(model: type[Model], data: Any) -> Model:
    """`data` (decoded JSON, or a query's values) as `model`; its first failure as the API's error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error_from(exc.errors(include_url=False)[0]) from None


def error_from(error: dict) -> RagError:
    """413 for a text over its limit, else 400; the message names the field and the limit."""
    kind, where = error["type"], _where(error["loc"])
    message = f"{where} {READS[kind].format(**error.get('ctx', {}))}" if kind in READS else \
        f"{where}: {error['msg']}" if kind in BUILT_IN else error["msg"]
    return (PayloadTooLarge if kind in ("string_too_long", "too_large") else BadRequest)(message)


def _where(location: tuple) -> str:
    """('history', 0, 'content') -> "'content' of item 1 of 'history'"; () -> "the request body"."""
    words = [f"item {part + 1}" if isinstance(part, int) else f"'{part}'" for part in reversed(location)]
    return " of ".join(words) or "the request body"


def must_be(what: str) -> WrapValidator:
    """Any failure of the value it annotates reads "'<field>' must be <what>", but a text over its limit's 413."""
    def validate(value: Any, handler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            for error in exc.errors():
                if error["type"] == "string_too_long":
                    raise PydanticKnownError("string_too_long", error["ctx"]) from None
            raise PydanticCustomError("must_be", "must be {what}", {"what": what}) from None
    return WrapValidator(validate)


class Open(BaseModel):
    """A JSON object, each field of its own JSON type ("5" is not a number); other fields are ignored."""
    model_config = ConfigDict(strict=True)


class Closed(BaseModel):
    """A JSON object of these fields only, each of its own JSON type."""
    model_config = ConfigDict(strict=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_fields(cls, data: Any) -> Any:
        unknown = ", ".join(sorted(set(data) - set(cls.model_fields))) if isinstance(data, dict) else ""
        if unknown:
            raise PydanticCustomError("unknown_field", "unknown field(s): {unknown}; allowed: {allowed}",
                                      {"unknown": unknown, "allowed": ", ".join(sorted(cls.model_fields))})
        return data


def _iso_date(value: str | None) -> str | None:
    if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("not YYYY-MM-DD")
    return dt.date.fromisoformat(value).isoformat() if value else None


IsoDate = Annotated[str | None, AfterValidator(_iso_date), must_be("a date, YYYY-MM-DD (or empty)"),
                    Field(json_schema_extra={"anyOf": [{"format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                                                       {"maxLength": 0}]})]


class Filters(Closed):
    """Only articles in this date range and from these sources (a date range leaves out undated articles)."""
    date_from: IsoDate = Field(None, description="Earliest article date, YYYY-MM-DD (empty or null: no bound).")
    date_to: IsoDate = Field(None, description="Latest article date, YYYY-MM-DD (empty or null: no bound).")
    sources: Annotated[list[Annotated[str, Field(min_length=1)]] | None, Field(max_length=100),
                       must_be("a list of up to 100 source names")] = \
        Field(None, description="Only articles from these sources (empty or null: all).")

    @model_validator(mode="after")
    def _in_order(self) -> "Filters":
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PydanticCustomError("dates_reversed", "'date_from' is after 'date_to'")
        return self


class TextPart(Open):
    type: Literal["text"]
    text: str


def _text(limit: int) -> AfterValidator:
    """A message's content as text (its text parts one a line), up to `limit` characters."""
    def text(content: str | list[TextPart]) -> str:
        text = content if isinstance(content, str) else "\n".join(part.text for part in content)
        if len(text) > limit:
            raise PydanticKnownError("string_too_long", {"max_length": limit})
        return text
    return AfterValidator(text)


def _question(limit: int) -> Any:
    """The question (rag.service.question_from): 413 over `limit` characters, 400 when empty."""
    def question(text: str) -> str:
        try:
            return question_from(text, limit)
        except RagError as exc:
            raise PydanticCustomError("too_large" if exc.status == 413 else "question", exc.message) from None
    return Annotated[str, AfterValidator(question),
                     Field(json_schema_extra={"minLength": 1, "maxLength": limit, "pattern": r"\S"})]


@functools.lru_cache(maxsize=32)
def request_models(settings: Settings) -> SimpleNamespace:
    """The request models with these settings' limits (ask, chat, delete, articles), built once per settings;
    ask and chat turn a request into RagService.ask's arguments (query())."""
    question_type = _question(settings.max_question_chars)
    question_text, turn_text = TypeAdapter(question_type), Annotated[str, Field(max_length=settings.max_turn_chars)]

    class Turn(Closed):
        role: Literal["user", "assistant"]
        content: turn_text

    class AskRequest(Closed):
        """A question, answered from the corpus with citations."""
        question: question_type
        history: Annotated[list[Turn] | None, Field(max_length=settings.max_history_turns)] = \
            Field(None, description="Earlier turns, oldest first; follow-ups are read against them.")
        filters: Filters | None = None
        top_k: Annotated[int | None, Field(ge=1, le=settings.max_top_k),
                         must_be(f"a whole number from 1 to {settings.max_top_k}")] = \
            Field(None, description=f"Passages to retrieve (null: the server's default, {settings.top_k}).")
        stream: bool = Field(False, description="Answer as server-sent events (not given: as the Accept header asks).")

        def query(self) -> dict:
            filters = self.filters and domain.Filters(self.filters.date_from, self.filters.date_to,
                                                      tuple(self.filters.sources or ()))
            return {"question": self.question, "history": [domain.Turn(t.role, t.content) for t in self.history or ()],
                    "filters": filters, "top_k": self.top_k or settings.top_k}

    class Message(Open):
        role: Literal["system", "developer", "user", "assistant"]
        content: Annotated[turn_text | list[TextPart], must_be("a string or a list of text parts"),
                           _text(settings.max_turn_chars)]

    class ChatRequest(Open):
        """OpenAI chat request; the last message (role user) is the question. Other OpenAI fields (max_tokens,
        temperature, ...) are accepted and ignored: the server's settings decide."""
        messages: Annotated[list[Message], Field(min_length=1)]
        model: str = MODEL_ID
        stream: bool = False

        @model_validator(mode="after")
        def _asks(self) -> "ChatRequest":
            talk = [m for m in self.messages if m.role in ("user", "assistant")]
            if not talk or talk[-1].role != "user":
                raise PydanticCustomError("no_question", "the last message must come from the user: it is the question")
            talk[-1].content = question_text.validate_python(talk[-1].content)
            return self

        def query(self) -> dict:
            """The question, and the latest max_history_turns turns before it (a chat client sends the whole
            conversation every time: its latest turns are what a follow-up refers to)."""
            *history, last = [domain.Turn(m.role, m.content) for m in self.messages if m.role in ("user", "assistant")]
            return {"question": last.content, "history": history[max(0, len(history) - settings.max_history_turns):]}

    return SimpleNamespace(ask=AskRequest, chat=ChatRequest, delete=DeleteRequest, articles=ArticlesQuery)


class DeleteRequest(Closed):
    """Articles to remove together."""
    ids: Annotated[list[Annotated[str, Field(min_length=1, pattern=r"\S")]], Field(min_length=1),
                   must_be("a list of one or more article ids")]


def _whole_number(value: Any) -> Any:
    """A query's "25" as 25 (ASCII digits only: not "²" or "５")."""
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else value


class ArticlesQuery(Open):
    """GET /api/articles?under=PATH (repeatable)&after=ID&limit=N."""
    under: Annotated[list[Annotated[str, Field(pattern="^/")]], must_be("an absolute path")] = \
        Field([], description="Only articles whose origin lies under this absolute path (repeatable).")
    after: str = Field("", description="The `next` of the page before (empty: the first page).")
    limit: Annotated[int, Field(ge=1, le=MAX_ARTICLES_PAGE), BeforeValidator(_whole_number),
                     must_be(f"a whole number from 1 to {MAX_ARTICLES_PAGE}")] = ARTICLES_PAGE
