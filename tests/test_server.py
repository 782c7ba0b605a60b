"""Access to `groundwork serve` (issue 14): with GROUNDWORK_UI_PASSWORD and GROUNDWORK_API_KEY set,
every route of the real app refuses without credentials, and no file is served by path.

The routes are read from the app's own route table (`build_server`, the function `serve()` runs),
so a route added later, by Gradio or by us, is checked without anyone listing it here. Only the
routes a browser needs to sign in are open, and that list is written out below.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from conftest import KEY, MARKER, PASSWORD, request, sign_in

import assistant  # noqa: F401  (offline environment before any model library loads)
from assistant.config import Settings
from assistant.server import Access, build_server

# What a browser may fetch before signing in: the sign-in page and form, the frontend's files.
SIGN_IN = {("GET", "/"), ("HEAD", "/"), ("POST", "/login"), ("POST", "/login/"),
           ("GET", "/assets/{path:path}"), ("GET", "/static/{path:path}"),
           ("GET", "/svelte/{path:path}"), ("GET", "/theme.css"), ("GET", "/favicon.ico"),
           ("GET", "/manifest.json"), ("GET", "/robots.txt")}


def route_table(app) -> list[tuple[str, str]]:
    """(method, path template) of every route, mounted apps included."""
    from fastapi import routing
    from starlette.routing import Mount, WebSocketRoute

    # FastAPI keeps an included router as one entry; iter_route_contexts opens it.
    flatten = getattr(routing, "iter_route_contexts", None) or list
    table = []

    def walk(routes, prefix: str) -> None:
        for route in flatten(routes):
            original = getattr(route, "original_route", route)
            if isinstance(original, Mount):
                walk(original.routes, prefix + original.path)
            elif isinstance(original, WebSocketRoute):
                table.append(("WEBSOCKET", prefix + route.path))
            else:
                table.extend((m, prefix + route.path) for m in sorted(route.methods or {"GET"}))

    walk(app.routes, "")
    return sorted(set(table))


def concrete(template: str, value: str = "x") -> str:
    return re.sub(r"\{[^}]+\}", value, template)


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> list[tuple[str, str]]:
    work = tmp_path_factory.mktemp("routes")
    settings = Settings.load(index_dir=work / "index")
    return route_table(build_server(settings, work / "corpus",
                                    access=Access(password=PASSWORD, key=KEY)))


def signed_in(url: str) -> str:
    status, cookie = sign_in(url, PASSWORD)
    assert status == 200 and cookie
    return cookie


def test_access_comes_from_the_environment(monkeypatch):
    for name in ("GROUNDWORK_UI_PASSWORD", "GROUNDWORK_UI_USER", "GROUNDWORK_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert Access.from_env() == Access() and not Access().on and Access().login is None
    monkeypatch.setenv("GROUNDWORK_UI_PASSWORD", "s3cret")
    assert Access.from_env().login == ("groundwork", "s3cret")
    monkeypatch.setenv("GROUNDWORK_UI_USER", "ana")
    monkeypatch.setenv("GROUNDWORK_API_KEY", "k")
    access = Access.from_env()
    assert access.login == ("ana", "s3cret")  # the UI takes the password, the API the key
    assert access.bearer_ok("Bearer k") and not access.bearer_ok("Bearer s3cret")
    assert Access(key="k").login == ("groundwork", "k")  # a key alone guards the UI too
    assert Access(password="p").bearer_ok("bearer p") and not Access(password="p").bearer_ok("p")


def test_the_route_table_is_the_whole_app(table):
    """The sweep below sees our routes and Gradio's, its file and API routes included."""
    paths = {path for _, path in table}
    for path in ("/api/ask", "/v1/chat/completions", "/v1/models", "/config", "/login",
                 "/gradio_api/queue/join", "/gradio_api/upload", "/gradio_api/info",
                 "/gradio_api/file={path_or_url:path}", "/gradio_api/call/{api_name}"):
        assert path in paths, path
    assert len(table) > 60, table
    assert set(table) >= SIGN_IN, SIGN_IN - set(table)


def test_every_route_refuses_without_credentials(guarded, table):
    opened = []
    for method, template in table:
        path = concrete(template)
        if method == "WEBSOCKET":  # none today; the guard closes a socket before accepting it
            assert upgrade(guarded["url"], path) in (401, 403), path
            continue
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        status, data, _ = request(guarded["url"], method, path, body,
                                  {"Content-Type": "application/json"})
        assert b"Traceback" not in data, (method, path, data[:300])
        if (method, template) in SIGN_IN:
            assert status != 401, (method, path)
        elif template.startswith(("/gradio_api/file", "/gradio_api/proxy=")):
            assert status == 404, (method, path, status)  # refused to everyone
        elif status != 401:
            opened.append((method, path, status))
    assert opened == [], f"answered without credentials: {opened}"
    # Wrong credentials are no credentials.
    for path in ("/api/ask", "/v1/chat/completions"):
        for auth in (f"Bearer {PASSWORD}", "Bearer wrong", f"Basic {KEY}"):
            status, data, headers = request(guarded["url"], "POST", path,
                                            b'{"question": "x"}', {"Authorization": auth})
            assert status == 401 and headers["WWW-Authenticate"] == "Bearer", (path, auth)
    status, _, _ = request(guarded["url"], "GET", "/config",
                           headers={"Cookie": f"access-token-{uuid.uuid4().hex}=forged"})
    assert status == 401


def upgrade(url: str, path: str) -> int:
    """The status of a WebSocket handshake on `path` (101 would be an open socket)."""
    status, _, _ = request(url, "GET", path, headers={
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    return status


def test_no_path_shape_gets_around_the_guard(guarded, table):
    """The guard reads the raw path; the routers behind it might read it differently. Every
    protected GET route, reached through a sign-in prefix and `..`, a doubled or dotted slash or
    HEAD, still answers nothing of the documents or the page."""
    opened = []
    for method, template in table:
        if method != "GET" or (method, template) in SIGN_IN:
            continue
        path = concrete(template)
        for shape, verb in ((path, "HEAD"), ("/" + path, "GET"), ("/." + path, "GET"),
                            ("/assets/.." + path, "GET"), ("/static/%2e%2e" + path, "GET"),
                            ("/svelte/..%2f.." + path, "GET")):
            status, data, _ = request(guarded["url"], verb, shape)
            if 200 <= status < 300 or MARKER.encode() in data or b"gw-question" in data:
                opened.append((verb, shape, status))
    assert opened == [], f"answered without credentials: {opened}"


def test_sign_in_page_shows_nothing_of_the_documents(guarded):
    status, page, _ = request(guarded["url"], "GET", "/")
    assert status == 200 and b'"auth_required":true' in page
    assert MARKER.encode() not in page and b"gw-question" not in page


def test_the_right_credentials_open_it(guarded):
    from gradio_client import Client

    question = f"How many nights was the {MARKER} lighthouse lit in 2023?"
    status, data, _ = request(guarded["url"], "POST", "/api/ask",
                              json.dumps({"question": question}).encode(),
                              {"Authorization": f"Bearer {KEY}"})
    assert status == 200 and "4,812" in json.loads(data)["summary"], data[:500]
    status, data, _ = request(guarded["url"], "GET", "/config",
                              headers={"Cookie": signed_in(guarded["url"])})
    assert status == 200 and b"gw-question" in data
    client = Client(guarded["url"], auth=("groundwork", PASSWORD), verbose=False)
    answer = client.predict(question, "extractive", 0, api_name="/ask")
    assert "4,812" in answer["summary"], answer


def _upload(url: str, cookie: str, name: str, content: bytes) -> str:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"{name}\"\r\nContent-Type: text/markdown\r\n\r\n").encode() + content + \
        f"\r\n--{boundary}--\r\n".encode()
    status, data, _ = request(url, "POST", "/gradio_api/upload", body,
                              {"Cookie": cookie,
                               "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200, data
    [path] = json.loads(data)
    return path


def test_no_file_is_served_by_path_even_signed_in(guarded, table):
    """Uploaded files (Gradio's copy), corpus files and the index cannot be fetched through any
    route that takes a path, with the path as it is or climbing out of where the route serves."""
    cookie = signed_in(guarded["url"])
    uploaded = _upload(guarded["url"], cookie, "notes.md", f"# {MARKER} notes\n".encode())
    assert Path(uploaded).read_text().startswith(f"# {MARKER}")  # on disk, outside the corpus
    targets = [uploaded, str(guarded["corpus"] / "quillmoor.md"),
               *map(str, guarded["index"].rglob("*.sqlite3")),
               *map(str, guarded["index"].rglob("*.json"))]
    templates = [(m, t) for m, t in table if m == "GET" and ":path}" in t]
    assert len(templates) >= 5, templates
    served = []
    for _, template in templates:
        for target in targets:
            for shape in (target, "../" * 12 + target.lstrip("/"),
                          "%2e%2e%2f" * 12 + target.lstrip("/").replace("/", "%2f")):
                path = re.sub(r"\{[^}]+:path\}", shape, template)
                status, data, _ = request(guarded["url"], "GET", concrete(path),
                                          headers={"Cookie": cookie})
                if MARKER.encode() in data or (status == 200 and "file" in template):
                    served.append((path, status))
    assert served == [], served
