"""The HTTP API beside the UI: `POST /api/ask` and an OpenAI-compatible `/v1`.

`POST /api/ask` takes {"question", "history"?, "generator"?, "k"?, "stream"?} and returns the
Answer JSON of `groundwork ask --json`; with "stream": true, server-sent events: `draft` events
(text as the generator writes it, not yet verified), then one `answer` event.

`POST /v1/chat/completions` and `GET /v1/models` let any OpenAI chat client use groundwork as a
model: the messages are the conversation, the reply's content is the rendered grounded answer
(`str(answer)`: [n] markers, sources, follow-ups) and the structured Answer rides in the
message's extra field `groundwork`. Streaming sends only verified text: drafts are never part of
an OpenAI reply, since a client cannot take back content it has shown.

Requests are parsed by hand, so that every bad one gets a 4xx with a sentence that says what to
change, never a validation dump or a trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from assistant.engine import MAX_K, MAX_QUESTION_CHARS, Engine, explain, generators
from assistant.store import StoreUnavailable
from assistant.types import Answer

MAX_BODY_BYTES = 1 << 20  # an Answer is 5-20 KB: a long conversation fits, a flood does not
MAX_HISTORY = 40  # earlier turns in "history", or messages in a chat completion
MODEL = "groundwork"  # the model id of the default generator; "groundwork-<name>" picks one
ASK_FIELDS = ("question", "history", "generator", "k", "stream")
ROLES = ("system", "developer", "user", "assistant")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class ApiError(Exception):
    """A request that cannot be answered; `message` tells the caller why, `status` is HTTP's."""

    def __init__(self, status: int, message: str, *, param: str | None = None,
                 code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code
        self.headers = headers


def error_body(path: str, error: ApiError) -> dict:
    """{"error": reason} for /api, OpenAI's error object for /v1 (its clients show `message`)."""
    if not path.startswith("/v1/"):
        return {"error": error.message}
    kind = ("authentication_error" if error.status == 401 else
            "invalid_request_error" if error.status < 500 else "server_error")
    return {"error": {"message": error.message, "type": kind, "param": error.param,
                      "code": error.code}}


def error_response(path: str, error: ApiError) -> JSONResponse:
    return JSONResponse(error_body(path, error), status_code=error.status, headers=error.headers)


# -- reading and checking requests -----------------------------------------------------------


async def read_json(request: Request) -> dict:
    """The body as a JSON object, refused (413) past MAX_BODY_BYTES before it is all read."""
    too_big = ApiError(413, f"the request body is over {MAX_BODY_BYTES // 1024} KB")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise too_big
    try:
        data = json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ApiError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object, e.g. {\"question\": \"...\"}")
    return data


def _question(value, where: str) -> str:
    if not isinstance(value, str):
        raise ApiError(400, f"{where} must be a string", param=where)
    text = " ".join(value.split())
    if not text:
        raise ApiError(400, f"{where} is empty: ask a question", param=where)
    if len(text) > MAX_QUESTION_CHARS:
        raise ApiError(400, f"{where} is {len(text)} characters long, over the limit of "
                       f"{MAX_QUESTION_CHARS}", param=where)
    return text


def _k(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_K:
        raise ApiError(400, f"k must be a whole number of passages from 1 to {MAX_K}", param="k")
    return value


def _stream(value) -> bool:
    if not isinstance(value, bool):
        raise ApiError(400, "stream must be true or false", param="stream")
    return value


def _answer(value: dict, where: str) -> Answer:
    try:
        return Answer.from_dict(value)
    except ValueError as exc:
        raise ApiError(400, f"{where} is not an answer of this API: {exc}", param=where) from None


def _count(items, where: str) -> list:
    if not isinstance(items, list):
        raise ApiError(400, f"{where} must be a list", param=where)
    if len(items) > MAX_HISTORY:
        raise ApiError(400, f"{where} has {len(items)} items, over the limit of {MAX_HISTORY}: "
                       "start a new conversation", param=where)
    return items


@dataclass
class Asked:
    """A checked request: what `Assistant.stream` needs."""

    question: str
    history: list[Answer | str]
    generator: str | None
    k: int | None
    stream: bool


def parse_history(items) -> list[Answer | str]:
    """Earlier turns, oldest first: each the user's question text or an Answer as this API
    returned it."""
    history: list[Answer | str] = []
    for i, item in enumerate(_count(items, "history")):
        where = f"history[{i}]"
        if isinstance(item, str):
            history.append(_question(item, where))
        elif isinstance(item, dict):
            history.append(_answer(item, where))
        else:
            raise ApiError(400, f"{where} must be an earlier question (a string) or an earlier "
                           "answer (an object)", param=where)
    return history


def parse_ask(data: dict) -> Asked:
    unknown = sorted(set(data) - set(ASK_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field(s) {', '.join(unknown)}: the fields are "
                       f"{', '.join(ASK_FIELDS)}", param=unknown[0])
    if "question" not in data:
        raise ApiError(400, "question is missing", param="question")
    generator = data.get("generator")
    if generator is not None and generator not in generators():
        raise ApiError(400, f"unknown generator {generator!r}: choose one of "
                       f"{', '.join(generators())}", param="generator")
    return Asked(_question(data["question"], "question"), parse_history(data.get("history", [])),
                 generator, _k(data.get("k")), _stream(data.get("stream", False)))


def models() -> dict[str, str | None]:
    """Model id -> generator (None: the server's default)."""
    return {MODEL: None, **{f"{MODEL}-{name}": name for name in generators()}}


def _text(content, where: str, optional: bool = False) -> str | None:
    """A message's content: a string, or a list of {"type": "text"} parts (joined)."""
    if content is None and optional:
        return None
    if isinstance(content, list):
        if not all(isinstance(p, dict) and p.get("type") == "text"
                   and isinstance(p.get("text"), str) for p in content):
            raise ApiError(400, f"{where}: only text parts are supported", param=where)
        content = " ".join(p["text"] for p in content)
    if not isinstance(content, str):
        raise ApiError(400, f"{where} must be a string or a list of text parts", param=where)
    return content


def parse_chat(data: dict) -> tuple[Asked, str]:
    """(the request, the model id to echo). The last message is the question; earlier user
    messages are earlier questions; an earlier assistant message counts when it carries its
    structured answer (`groundwork`); system messages are read and not obeyed: nothing a client
    says changes how answers are grounded."""
    model = data.get("model", MODEL)
    if model not in models():
        raise ApiError(404, f"unknown model {model!r}: choose one of {', '.join(models())}",
                       param="model", code="model_not_found")
    if data.get("n", 1) != 1:
        raise ApiError(400, "n must be 1: there is one grounded answer", param="n")
    if "messages" not in data:
        raise ApiError(400, "messages is missing", param="messages")
    messages = _count(data["messages"], "messages")
    turns: list[tuple[str, dict]] = []
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise ApiError(400, f"{where} must be an object whose role is one of "
                           f"{', '.join(ROLES)}", param=where)
        _text(m.get("content"), f"{where}.content", optional=m["role"] == "assistant")
        if m["role"] in ("user", "assistant"):
            turns.append((where, m))
    if not turns or turns[-1][1]["role"] != "user":
        raise ApiError(400, "the last message must be the user's question", param="messages")
    where, last = turns[-1]
    question = _question(_text(last["content"], f"{where}.content"), f"{where}.content")
    history: list[Answer | str] = []
    for where, m in turns[:-1]:
        if m["role"] == "user":
            history.append(_question(_text(m["content"], where), f"{where}.content"))
        elif isinstance(m.get("groundwork"), dict):
            history.append(_answer(m["groundwork"], f"{where}.groundwork"))
    return Asked(question, history, models()[model], _k(data.get("k")),
                 _stream(data.get("stream", False))), model


# -- answering --------------------------------------------------------------------------------


async def _in_thread(make: Callable[[], Iterator]) -> AsyncIterator:
    """Items of a blocking iterator, produced in a thread of its own: the event loop (and the
    UI) keep running, and a client that goes away stops the iterator at its next item."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value) -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed: the server is stopping
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def work() -> None:
        try:
            items = make()
            try:
                for item in items:
                    put("item", item)
                    if stop.is_set():
                        break
            finally:
                items.close()
            put("end", None)
        except BaseException as exc:  # handed to the request, which explains it
            put("error", exc)

    threading.Thread(target=work, name="groundwork-api", daemon=True).start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield value
    finally:
        stop.set()


class Api:
    """The routes, over the process's Engine. Questions are taken one at a time (the Assistant
    answers one at a time anyway); one that waits longer than `api_queue_timeout_s` for its turn
    gets a 503 instead of an answer nobody is waiting for."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.settings = engine.settings
        self._turn = asyncio.Semaphore(1)

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/api/ask", self.ask, methods=["POST"])
        router.add_api_route("/v1/models", self.list_models, methods=["GET"])
        router.add_api_route("/v1/chat/completions", self.chat_completions, methods=["POST"])
        return router

    async def answers(self, asked: Asked) -> AsyncIterator[str | Answer]:
        """Draft pieces, then the Answer; failures become ApiError with a readable reason."""
        generator = asked.generator or self.settings.generator
        try:
            async with asyncio.timeout(self.settings.api_queue_timeout_s):
                await self._turn.acquire()
        except TimeoutError:
            raise ApiError(503, f"busy: no turn came within {self.settings.api_queue_timeout_s:g}"
                           " s (setting api_queue_timeout_s); try again later",
                           headers={"Retry-After": "10"}) from None
        try:
            async for item in _in_thread(lambda: self.engine.assistant().stream(
                    asked.question, history=asked.history, k=asked.k, generator=asked.generator)):
                yield item
                if isinstance(item, Answer):
                    return
        except Exception as exc:
            status, message = explain(exc, generator)  # StoreUnavailable: 503, its URL named
            # A vector server that went away may be back soon (an empty index will not be).
            retry = {"Retry-After": "10"} if isinstance(exc, StoreUnavailable) else None
            raise ApiError(status, message, headers=retry) from None
        finally:
            self._turn.release()
        raise ApiError(500, "the pipeline ended without an answer")

    async def _started(self, asked: Asked) -> tuple[str | Answer, AsyncIterator]:
        """The first item, awaited before any byte is sent: a failure that comes before the
        answer starts (an empty index, an LLM that is down, a full queue) keeps its status.
        The caller closes the rest (`aclose`), which gives the turn back."""
        items = self.answers(asked)
        return await anext(items), items

    async def _answer(self, asked: Asked) -> Answer:
        *_, answer = [item async for item in self.answers(asked)]
        return answer

    async def ask(self, request: Request):
        asked = parse_ask(await read_json(request))
        if not asked.stream:
            return JSONResponse((await self._answer(asked)).to_dict())
        first, items = await self._started(asked)

        async def events():
            item = first
            try:
                while not isinstance(item, Answer):
                    yield _sse({"text": item}, "draft")
                    item = await anext(items)
                yield _sse(item.to_dict(), "answer")
            except ApiError as exc:  # after the first byte the status is sent: an event says it
                yield _sse({"error": exc.message, "status": exc.status}, "error")
            finally:
                await items.aclose()

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)

    async def list_models(self):
        return {"object": "list", "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "groundwork",
             "generator": generator or self.settings.generator}
            for name, generator in models().items()]}

    async def chat_completions(self, request: Request):
        asked, model = parse_chat(await read_json(request))
        reply = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                 "model": model, "system_fingerprint": None}
        if not asked.stream:
            answer = await self._answer(asked)
            message = {"role": "assistant", "content": str(answer),
                       "groundwork": answer.to_dict()}
            return {**reply, "object": "chat.completion", "choices": [
                {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}]}
        first, items = await self._started(asked)
        chunk = {**reply, "object": "chat.completion.chunk"}

        def delta(content: dict, finish: str | None = None) -> str:
            return _sse({**chunk, "choices": [{"index": 0, "delta": content,
                                               "finish_reason": finish, "logprobs": None}]})

        async def events():
            yield delta({"role": "assistant", "content": ""})
            answer = first
            try:
                while not isinstance(answer, Answer):
                    yield ": drafting\n\n"  # an SSE comment: the connection is alive
                    answer = await anext(items)
            except ApiError as exc:  # the openai package raises it as an APIError
                yield _sse(error_body("/v1/", exc))
                return
            finally:
                await items.aclose()
            for line in str(answer).splitlines(keepends=True):
                yield delta({"content": line})
            yield delta({"groundwork": answer.to_dict()}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


def _sse(data: dict, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"
