"""`groundwork serve`: the chat UI and the HTTP API in one process, on one port, 127.0.0.1 unless
told otherwise.

One FastAPI app holds the API's routes (`assistant/api.py`) and Gradio's app mounted at "/".
Two layers stand in front of every route, Gradio's included: the access guard and the
Content-Security-Policy header. One uvicorn serves it all.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings, make_offline

make_offline()  # before gradio is imported: GRADIO_ANALYTICS_ENABLED=False

import gradio as gr  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from starlette.requests import HTTPConnection  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from assistant.api import Api, ApiError, error_response  # noqa: E402
from assistant.engine import Engine  # noqa: E402
from assistant.ui import build_app, mount_options  # noqa: E402

LOOPBACK = ("127.0.0.1", "localhost", "::1")
API_PREFIXES = ("/api/", "/v1/")
# What a browser needs before it has signed in: the sign-in page, the form's POST, and the
# frontend's own files (the same in every Gradio install; no document, answer or setting).
SIGN_IN = {("GET", "/"), ("HEAD", "/"), ("POST", "/login"), ("POST", "/login/"),
           ("GET", "/theme.css"), ("GET", "/favicon.ico"), ("GET", "/manifest.json"),
           ("GET", "/robots.txt")}
SIGN_IN_FILES = ("/assets/", "/static/", "/svelte/")
# Gradio routes that hand out files by path or fetch URLs: the UI needs none of them, so no
# uploaded, indexed or other file on this machine is reachable through them, signed in or not.
BY_PATH = ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/proxy=")
# Served on every response: the page may only talk to this server.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self'; media-src 'self' data: blob:; worker-src 'self' blob:; "
       "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")

log = logging.getLogger("groundwork.server")


@dataclass(frozen=True)
class Access:
    """Who may use the server. With neither secret set, everyone who can reach the port (on
    127.0.0.1: this machine). With either, no route answers without credentials: the UI's
    sign-in takes the password (or, with only a key, the key), the API a bearer token (the key,
    or, with only a password, the password)."""

    user: str = "groundwork"
    password: str | None = None
    key: str | None = None

    @classmethod
    def from_env(cls) -> Access:
        return cls(os.environ.get("GROUNDWORK_UI_USER") or "groundwork",
                   os.environ.get("GROUNDWORK_UI_PASSWORD") or None,
                   os.environ.get("GROUNDWORK_API_KEY") or None)

    @property
    def on(self) -> bool:
        return bool(self.password or self.key)

    @property
    def login(self) -> tuple[str, str] | None:
        """Gradio's sign-in (user, password), or None for an open UI."""
        return (self.user, self.password or self.key) if self.on else None

    def bearer_ok(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        secret = self.key or self.password or ""
        return scheme.lower() == "bearer" and secrets.compare_digest(token.strip().encode(),
                                                                     secret.encode())


class Guard:
    """Default deny: every request needs credentials unless it is part of signing in, so a
    route added later (by Gradio or by us) cannot be left open by accident. The UI's
    credentials are Gradio's own session cookie, checked against Gradio's sessions; the API's
    a bearer token. Routes that serve files by path are refused to everyone."""

    def __init__(self, app, access: Access, gradio_app):
        self.app, self.access, self.gradio = app, access, gradio_app

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path, conn = scope["path"], HTTPConnection(scope)
        if path.startswith(BY_PATH):
            refusal = ApiError(404, "files are not served by path")
        elif not self.access.on or self._signed_in(conn, path):
            return await self.app(scope, receive, send)
        elif path.startswith(API_PREFIXES):
            secret = "GROUNDWORK_API_KEY" if self.access.key else "GROUNDWORK_UI_PASSWORD"
            refusal = ApiError(401, ("the bearer token is not this server's: send "
                                     if "authorization" in conn.headers else
                                     "this server needs a key: send the header ")
                               + f"'Authorization: Bearer <{secret}>'", code="invalid_api_key",
                               headers={"WWW-Authenticate": "Bearer"})
        else:
            refusal = ApiError(401, "not signed in: open / and sign in")
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        return await error_response(path, refusal)(scope, receive, send)

    def _signed_in(self, conn, path: str) -> bool:
        if path.startswith(API_PREFIXES):
            return self.access.bearer_ok(conn.headers.get("authorization", ""))
        method = conn.scope.get("method", "GET")
        if (method, path) in SIGN_IN or (method in ("GET", "HEAD")
                                         and path.startswith(SIGN_IN_FILES)):
            return True
        cookie = self.gradio.cookie_id
        token = (conn.cookies.get(f"access-token-{cookie}")
                 or conn.cookies.get(f"access-token-unsecure-{cookie}"))
        return token is not None and token in self.gradio.tokens


class ContentSecurity:
    """The CSP and no-referrer headers on every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_csp(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-security-policy", CSP.encode()))
                headers.append((b"referrer-policy", b"no-referrer"))
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_csp)


def build_server(settings: Settings, corpus_dir: Path, engine: Engine | None = None,
                 access: Access | None = None):
    """The whole app, unstarted: tests read its route table, `serve()` runs it."""
    engine = engine or Engine(settings)
    access = access or Access.from_env()
    # No /docs or /openapi.json: FastAPI's docs page loads its scripts from a CDN.
    app = FastAPI(title="groundwork", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(Api(engine).router())

    @app.exception_handler(ApiError)
    async def refused(request, exc: ApiError):
        return error_response(request.url.path, exc)

    login = access.login
    gr.mount_gradio_app(app, build_app(settings, corpus_dir, engine), path="/", auth=login,
                        auth_message="groundwork: sign in" if login else None,
                        **mount_options(settings))
    gradio_app = next(r.app for r in app.routes if isinstance(r, Mount))
    app.add_middleware(Guard, access=access, gradio_app=gradio_app)
    app.add_middleware(ContentSecurity)  # added last: outermost, so refusals carry it too
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          corpus_dir: Path = Path("corpus")) -> None:
    """Run the UI and the API until interrupted. Binds loopback unless `host` says otherwise."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    access = Access.from_env()
    if host not in LOOPBACK and not access.on:
        log.warning("serving on %s without a password or key: anyone who can reach this port "
                    "can read your documents (set GROUNDWORK_UI_PASSWORD or GROUNDWORK_API_KEY)",
                    host)
    engine = Engine(settings)
    app = build_server(settings, corpus_dir, engine, access)
    threading.Thread(target=engine.warm_up, daemon=True).start()
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    log.info("the UI on %s/, the API on %s/api/ask and %s/v1 (%s)", url, url, url,
             "credentials required" if access.on else "open to this machine"
             if host in LOOPBACK else "open")
    uvicorn.run(app, host=host, port=port, access_log=False, timeout_graceful_shutdown=5,
                log_level="info")
