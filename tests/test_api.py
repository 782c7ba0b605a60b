"""The HTTP API of a real `groundwork serve`: the real `openai` package against /v1 (plain and
streaming), plain HTTP to /api/ask (JSON and server-sent events), the key off and on, every kind
of bad request, an LLM that hangs or is down, and a question that waits too long for its turn.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from conftest import HEADLINE, groundwork_serve, post, request, sign_in

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.api import MAX_BODY_BYTES, MAX_HISTORY
from assistant.engine import MAX_QUESTION_CHARS
from assistant.types import Answer

KEY = "k3y-for-tests"


class Hang:
    """An "LLM server" that accepts connections and never answers; `close()` makes it refuse."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                self.held.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="module")
def hang():
    server = Hang()
    yield server
    server.close()


@pytest.fixture(scope="module")
def served(demo_index, hang, tmp_path_factory):
    """No key; the openai generator points at `hang`; a question waits at most 1 s for its turn."""
    with groundwork_serve(tmp_path_factory.mktemp("api"), demo_index.index_dir,
                          GROUNDWORK_OPENAI_BASE_URL=f"http://127.0.0.1:{hang.port}/v1",
                          GROUNDWORK_LLM_TIMEOUT_S="3",
                          GROUNDWORK_API_QUEUE_TIMEOUT_S="1") as server:
        yield server


@pytest.fixture(scope="module")
def keyed(demo_index, tmp_path_factory):
    with groundwork_serve(tmp_path_factory.mktemp("keyed"), demo_index.index_dir,
                          GROUNDWORK_API_KEY=KEY) as server:
        yield server


def events(text: str) -> list[tuple[str, dict]]:
    """(event, data) of a server-sent event stream."""
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        out.append((fields.get("event", "message"), json.loads(fields["data"])))
    return out


def openai_client(server: dict, key: str = "unused"):
    from openai import OpenAI

    return OpenAI(base_url=server["url"] + "v1", api_key=key, max_retries=0, timeout=120)


# -- the OpenAI-compatible endpoint, through the real openai package ---------------------------


def test_openai_client_lists_the_models_and_gets_a_grounded_answer(served):
    client = openai_client(served)
    assert [m.id for m in client.models.list()] == [
        "groundwork", "groundwork-extractive", "groundwork-llama-cpp", "groundwork-openai"]
    reply = client.chat.completions.create(
        model="groundwork", messages=[{"role": "user", "content": HEADLINE}])
    message = reply.choices[0].message
    answer = message.groundwork  # the extra field: the structured Answer
    assert reply.choices[0].finish_reason == "stop" and message.role == "assistant"
    assert message.content == answer["text"] == str(Answer.from_dict(answer))
    assert answer["status"] == "partial" and "63,892" in message.content
    assert any("arrests" in u for u in answer["undocumented"])
    assert "Sources" in message.content and "[1]" in message.content


def test_openai_client_streams_the_verified_answer(served):
    client = openai_client(served)
    stream = client.chat.completions.create(
        model="groundwork-extractive", stream=True,
        messages=[{"role": "system", "content": "Answer in one word."},
                  {"role": "user", "content": HEADLINE}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    last = chunks[-1].choices[0]
    assert chunks[0].choices[0].delta.role == "assistant" and last.finish_reason == "stop"
    assert len(chunks) > 5 and {c.id for c in chunks} == {chunks[0].id}
    answer = last.delta.groundwork
    assert text == answer["text"]  # only verified text: the draft never reaches the content
    assert answer["status"] == "partial" and "63,892" in text


# -- /api/ask over plain HTTP -----------------------------------------------------------------


def test_api_ask_returns_the_answer_json_of_ask_json(served, cli, demo_index):
    status, answer = post(served["url"], "/api/ask", {"question": HEADLINE, "k": 6})
    assert status == 200, answer
    printed = json.loads(cli("ask", HEADLINE, "--index", demo_index.index_dir, "--json").stdout)
    assert answer.keys() == printed.keys()
    for key in ("status", "summary", "undocumented", "unconfirmed", "claims", "citations",
                "text"):
        assert answer[key] == printed[key], key


def test_an_unconfirmed_answer_comes_back_as_history(served):
    """The outcome a part may have beside answered and not documented travels both ways: in
    the JSON, and back from a client's conversation history (/api/ask and /v1)."""
    _, first = post(served["url"], "/api/ask", {"question": FIRST})
    assert first["unconfirmed"] == [] and all(c["unconfirmed"] is False for c in first["claims"])
    first.update(status="unconfirmed", unconfirmed=["How many reports were received"])
    first["claims"][0]["unconfirmed"] = True
    status, answer = post(served["url"], "/api/ask", {"question": FOLLOW_UP, "history": [first]})
    assert status == 200 and "CyberTipline" in answer["question"], answer
    reply = openai_client(served).chat.completions.create(model="groundwork", messages=[
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first["text"], "groundwork": first},
        {"role": "user", "content": FOLLOW_UP}])
    assert "CyberTipline" in reply.choices[0].message.groundwork["question"]
    first["claims"][0]["unconfirmed"] = "maybe"
    status, reply = post(served["url"], "/api/ask", {"question": FOLLOW_UP, "history": [first]})
    assert status == 400 and "claims[0].unconfirmed must be bool" in reply["error"], reply


def test_api_ask_streams_drafts_then_the_verified_answer(served):
    status, text = post(served["url"], "/api/ask", {"question": HEADLINE, "stream": True})
    assert status == 200
    got = events(text)
    kinds = [kind for kind, _ in got]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"draft"} and len(kinds) > 2, kinds
    draft = "".join(data["text"] for kind, data in got if kind == "draft")
    answer = got[-1][1]
    assert "63,892" in draft and answer["status"] == "partial" and answer["citations"]


FIRST = "How many reports did NCMEC's CyberTipline receive in 2023?"
FOLLOW_UP = "And how many of them were escalated as urgent?"


def test_a_follow_up_is_answered_in_the_conversation_it_belongs_to(served):
    """history (earlier questions, earlier answers) and chat messages reach the pipeline: the
    follow-up is made to stand alone before it is answered."""
    _, first = post(served["url"], "/api/ask", {"question": FIRST})
    for history in ([first], [FIRST]):  # an earlier answer, or just the earlier question
        status, answer = post(served["url"], "/api/ask",
                              {"question": FOLLOW_UP, "history": history})
        assert status == 200 and answer["asked"] == FOLLOW_UP, answer
        assert "CyberTipline" in answer["question"] and "2023" in answer["question"]
        assert "63,892" in answer["summary"] and answer["status"] == "answered"
    reply = openai_client(served).chat.completions.create(model="groundwork", messages=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": FIRST},
        {"role": "assistant", "content": first["text"], "groundwork": first},
        {"role": "assistant", "content": None},  # e.g. a tool call's turn: nothing to read
        {"role": "user", "content": [{"type": "text", "text": FOLLOW_UP}]}])
    answer = reply.choices[0].message.groundwork
    assert answer["asked"] == FOLLOW_UP and "CyberTipline" in answer["question"]
    assert "63,892" in reply.choices[0].message.content
    alone = post(served["url"], "/api/ask", {"question": FOLLOW_UP})[1]
    assert "CyberTipline" not in alone["question"]  # without the conversation, nothing to refer to


# -- bad requests: a 4xx with a reason, never a trace -----------------------------------------

Q = {"question": "How many reports?"}
M = [{"role": "user", "content": "How many reports?"}]
BAD = [
    ("/api/ask", b"{not json", 400, "not valid JSON"),
    ("/api/ask", b"\xff\xfe", 400, "not valid JSON"),
    ("/api/ask", [1, 2], 400, "must be a JSON object"),
    ("/api/ask", {}, 400, "question is missing"),
    ("/api/ask", {"question": "  \n "}, 400, "question is empty"),
    ("/api/ask", {"question": 7}, 400, "question must be a string"),
    ("/api/ask", {"question": "x" * (MAX_QUESTION_CHARS + 1)}, 400, "over the limit of 2000"),
    ("/api/ask", {**Q, "questoin": "x"}, 400, "unknown field(s) questoin"),
    ("/api/ask", {**Q, "generator": "gpt-9"}, 400, "unknown generator 'gpt-9'"),
    ("/api/ask", {**Q, "k": 0}, 400, "k must be a whole number of passages from 1 to 20"),
    ("/api/ask", {**Q, "k": "6"}, 400, "k must be a whole number"),
    ("/api/ask", {**Q, "k": True}, 400, "k must be a whole number"),
    ("/api/ask", {**Q, "stream": "yes"}, 400, "stream must be true or false"),
    ("/api/ask", {**Q, "history": "earlier"}, 400, "history must be a list"),
    ("/api/ask", {**Q, "history": ["q?"] * (MAX_HISTORY + 1)}, 400,
     f"history has {MAX_HISTORY + 1} items, over the limit of {MAX_HISTORY}"),
    ("/api/ask", {**Q, "history": [3]}, 400, "history[0] must be an earlier question"),
    ("/api/ask", {**Q, "history": [""]}, 400, "history[0] is empty"),
    ("/api/ask", {**Q, "history": [{"question": "q", "status": "sure"}]}, 400,
     "history[0] is not an answer of this API"),
    ("/v1/chat/completions", b"[", 400, "not valid JSON"),
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": M}, 404, "unknown model 'gpt-4o'"),
    ("/v1/chat/completions", {"model": "groundwork"}, 400, "messages is missing"),
    ("/v1/chat/completions", {"messages": "hi"}, 400, "messages must be a list"),
    ("/v1/chat/completions", {"messages": []}, 400, "the last message must be the user's"),
    ("/v1/chat/completions", {"messages": M * (MAX_HISTORY + 1)}, 400,
     f"messages has {MAX_HISTORY + 1} items, over the limit of {MAX_HISTORY}"),
    ("/v1/chat/completions", {"messages": [{"role": "tool", "content": "x"}]}, 400,
     "messages[0] must be an object whose role is one of system, developer, user, assistant"),
    ("/v1/chat/completions", {"messages": [*M, {"role": "assistant", "content": "x"}]}, 400,
     "the last message must be the user's question"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": ""}]}, 400,
     "messages[0].content is empty"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:,"}}]}]}, 400, "only text parts"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": None}]}, 400,
     "messages[0].content must be a string or a list of text parts"),
    ("/v1/chat/completions", {"messages": M, "n": 2}, 400, "n must be 1"),
    ("/v1/chat/completions", {"messages": [{"role": "assistant", "content": "x",
                                            "groundwork": {"status": 1}}, *M]}, 400,
     "messages[0].groundwork is not an answer of this API"),
]


@pytest.mark.parametrize("path, body, status, reason", BAD,
                         ids=[f"{p.split('/')[-1]}-{i}" for i, (p, *_) in enumerate(BAD)])
def test_bad_requests_get_a_4xx_with_a_readable_reason(served, path, body, status, reason):
    got, data = post(served["url"], path, body)
    assert got == status, data
    message = data["error"] if path.startswith("/api/") else data["error"]["message"]
    assert reason in message, message
    assert "Traceback" not in json.dumps(data)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_oversized_body_is_refused_before_it_is_read(served, declared):
    """413 as soon as the body is known to be too big: from its Content-Length, or once the
    chunks sent have passed the limit (the server stops reading, so sending may fail)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", served["port"], timeout=60)
    conn.putrequest("POST", "/api/ask")
    if declared:
        conn.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        conn.endheaders()  # and not one byte of the body
    else:
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        chunk = b" " * 65536
        try:
            for _ in range(MAX_BODY_BYTES // len(chunk) + 2):
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # refused mid-body
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read()) == {"error": "the request body is over 1024 KB"}
    conn.close()


def test_bad_requests_through_the_openai_package(served):
    import openai

    client = openai_client(served)
    with pytest.raises(openai.NotFoundError, match="unknown model 'gpt-4o'"):
        client.chat.completions.create(model="gpt-4o", messages=M)
    with pytest.raises(openai.BadRequestError, match="the last message must be the user's"):
        client.chat.completions.create(model="groundwork", messages=[])


# -- the key ----------------------------------------------------------------------------------


def test_without_a_key_the_api_is_open_with_one_it_needs_it(served, keyed):
    import openai

    assert post(served["url"], "/api/ask", Q)[0] == 200  # key off
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}):
        status, data = post(keyed["url"], "/api/ask", Q, headers)
        assert status == 401 and "Authorization: Bearer <GROUNDWORK_API_KEY>" in data["error"]
    status, data = post(keyed["url"], "/api/ask", Q, {"Authorization": f"Bearer {KEY}"})
    assert status == 200 and data["citations"], data
    with pytest.raises(openai.AuthenticationError, match="invalid_api_key"):
        openai_client(keyed, "wrong").models.list()
    reply = openai_client(keyed, KEY).chat.completions.create(model="groundwork", messages=M)
    assert reply.choices[0].message.groundwork["citations"]
    # The UI behind a key alone: its sign-in takes the key.
    assert request(keyed["url"], "GET", "/config")[0] == 401
    status, cookie = sign_in(keyed["url"], KEY)
    assert status == 200
    assert request(keyed["url"], "GET", "/config", headers={"Cookie": cookie})[0] == 200


# -- an LLM that hangs or is down, a queue that is too long -----------------------------------


def test_llm_timeout_is_a_502_and_a_question_that_waits_too_long_a_503(served, hang):
    results = {}

    def slow():
        results["llm"] = post(served["url"], "/api/ask", {**Q, "generator": "openai"})

    worker = threading.Thread(target=slow)
    worker.start()
    time.sleep(0.5)  # the hanging question holds the turn
    started = time.monotonic()
    status, data = post(served["url"], "/api/ask", Q)
    waited = time.monotonic() - started
    assert status == 503 and data["error"].startswith("busy: no turn came within 1 s"), data
    assert waited < 5
    worker.join(120)
    status, data = results["llm"]
    assert status == 502 and "The openai generator could not run" in data["error"], data
    assert "did not answer" in data["error"] and "Traceback" not in data["error"]


def test_llm_down_is_a_502_before_the_stream_starts(served, hang):
    import openai

    hang.close()  # nothing listens there now: connection refused
    status, data = post(served["url"], "/api/ask", {**Q, "generator": "openai", "stream": True})
    assert status == 502 and "did not answer" in data["error"], data
    with pytest.raises(openai.APIStatusError, match="openai generator could not run") as exc:
        openai_client(served).chat.completions.create(model="groundwork-openai", messages=M,
                                                      stream=True)
    assert exc.value.status_code == 502
    assert post(served["url"], "/api/ask", Q)[0] == 200  # and the next question is answered
