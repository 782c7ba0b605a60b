"""The chat UI: streamed drafts, verified answers with clickable [n], the passages they rest on.

`build_app()` returns the gr.Blocks; `assistant.server` mounts it beside the HTTP API. Everything
the page needs is served by this process: no web fonts, no CDN, no analytics (and the server's
Content-Security-Policy keeps the browser from fetching anything from elsewhere). The page's CSS
and JavaScript are the files in `static/`, inlined into the page by Gradio.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings, make_offline

if TYPE_CHECKING:
    from assistant.ingest import FileProgress

make_offline()  # before gradio is imported: GRADIO_ANALYTICS_ENABLED=False

import gradio as gr  # noqa: E402

from assistant.engine import (  # noqa: E402
    MAX_K,
    MAX_QUESTION_CHARS,
    Engine,
    explain,
    generators,
)
from assistant.readers import SUPPORTED  # noqa: E402
from assistant.render import render as render_text  # noqa: E402
from assistant.types import Answer  # noqa: E402
from assistant.ui.render import (  # noqa: E402
    answer_html,
    banner_html,
    draft_html,
    error_html,
    results_html,
    sources_html,
)
from assistant.ui.uploads import UploadRefused, save_upload  # noqa: E402

STATIC = Path(__file__).resolve().parent / "static"
FOLLOW_UP_BUTTONS = 3


# -- the page's look and behaviour ---------------------------------------------------------------


def theme() -> gr.themes.Base:
    """Fonts the machine already has: nothing is fetched from a font service."""
    return gr.themes.Default(
        primary_hue="indigo", neutral_hue="slate",
        font=[gr.themes.Font("ui-sans-serif"), "system-ui", "sans-serif"],
        font_mono=[gr.themes.Font("ui-monospace"), "monospace"])


def mount_options(settings: Settings) -> dict:
    """What `gr.mount_gradio_app()` needs for this page besides the app and its sign-in: the
    look, the page's CSS and JavaScript from `static/`, nothing that reaches outside."""
    return dict(theme=theme(), css_paths=[STATIC / "ui.css"], js=(STATIC / "ui.js").read_text(),
                ssr_mode=False, pwa=False, mcp_server=False, show_error=False,
                footer_links=["api", "settings"], enable_monitoring=False,
                max_file_size=int(settings.max_file_mb * 1024 * 1024))


# -- the app -------------------------------------------------------------------------------------


@dataclass
class Outputs:
    """The components an ask updates, in the order the handlers return them."""

    chatbot: gr.Chatbot
    turns: gr.State
    sources: gr.HTML
    follow_box: gr.Column
    follow_ups: list[gr.Button]
    copy: gr.Textbox
    question: gr.Textbox

    def all(self) -> list:
        return [self.chatbot, self.turns, self.sources, self.follow_box, *self.follow_ups,
                self.copy, self.question]


def _assistant(content: str) -> dict:
    return {"role": "assistant", "content": content}


class ChatHandlers:
    """The UI's behaviour, separate from its layout so that tests can call it directly."""

    def __init__(self, settings: Settings, corpus_dir: Path, engine: Engine | None = None):
        self.settings = settings
        self.corpus_dir = Path(corpus_dir)
        self.engine = engine or Engine(settings)

    def respond(self, question, history, turns, generator, k):
        """Yields (chatbot, turns, sources, follow-up box, *its buttons, copy text, question).

        `turns` holds this conversation's (turn number, Answer)s: they are the history a
        follow-up is made standalone against, and what its suggestions must not repeat."""
        question = " ".join((question or "").split())
        history = list(history or [])
        turns = list(turns or [])
        skip = [gr.skip()] * (FOLLOW_UP_BUTTONS + 4)
        if not question:
            gr.Warning("Type a question first.")
            yield [history, turns, *skip]
            return
        generator = generator if generator in generators() else self.settings.generator
        k = int(k) if k else None
        # A new list at every yield: Gradio diffs what it is given against what it sent.
        history = [*history, {"role": "user", "content": question}, _assistant(draft_html(""))]
        yield [history, turns, *skip[:-1], ""]
        draft, answer = "", None
        earlier = [a for _, a in turns]  # the conversation so far: follow-ups are read against it
        try:
            stream = self.engine.assistant().stream(question, history=earlier, k=k,
                                                    generator=generator)
            try:
                for piece in stream:
                    if isinstance(piece, Answer):
                        answer = piece
                    else:
                        draft += piece
                        history = [*history[:-1], _assistant(draft_html(draft))]
                        yield [history, turns, *skip]
            finally:
                stream.close()
            if answer is None:
                raise RuntimeError("the pipeline ended without an answer")
        except Exception as exc:
            _, message = explain(exc, generator)
            gr.Warning(message)
            history = [*history[:-1], _assistant(error_html(message))]
            yield [history, turns, *skip]
            return
        turn = (turns[-1][0] + 1) if turns else 1
        turns.append((turn, answer))
        history = [*history[:-1], _assistant(answer_html(answer, turn))]
        buttons = [gr.update(value=q, visible=True) for q in answer.follow_ups[:FOLLOW_UP_BUTTONS]]
        buttons += [gr.update(visible=False)] * (FOLLOW_UP_BUTTONS - len(buttons))
        yield [history, turns, sources_html(turns), gr.update(visible=bool(answer.follow_ups)),
               *buttons, render_text(answer), gr.skip()]

    def answer(self, question: str, generator: str = "extractive", k: int = 0) -> dict:
        """The verified answer as JSON (`text` is the rendered answer), or {"error": reason}."""
        generator = generator if generator in generators() else self.settings.generator
        try:
            answer = self.engine.assistant().ask(question, k=int(k) or None, generator=generator)
        except Exception as exc:
            return {"error": explain(exc, generator)[1]}
        return answer.to_dict()

    def clear(self):
        """A new conversation: no turns, so the next question is read on its own."""
        hidden = [gr.update(visible=False)] * FOLLOW_UP_BUTTONS
        return [[], [], sources_html([]), gr.update(visible=False), *hidden, "", ""]

    def add_documents(self, files, progress=None):
        """Save, check and ingest uploads; returns (result table, banner)."""
        from assistant.ingest import ingest

        paths = [f if isinstance(f, str | Path) else getattr(f, "name", f) for f in files or []]
        rows: list[dict] = []
        saved: list[tuple[Path, str, str]] = []  # (path, original name, note)
        for path in paths:
            original = Path(str(path)).name
            try:
                target, note = save_upload(path, original, self.corpus_dir,
                                           self.settings.max_file_mb)
                saved.append((target, original, note))
            except UploadRefused as exc:
                rows.append({"file": original, "result": "refused", "detail": str(exc)})
            except OSError as exc:
                rows.append({"file": original, "result": "failed",
                             "detail": f"could not save: {exc.strerror or exc}"})
        for i, (target, original, note) in enumerate(saved):
            if progress is not None:
                progress((i, len(saved)), desc=f"Indexing {target.name}", unit="files")
            shown = target.name if target.name == original else f"{original} -> {target.name}"
            try:
                report = ingest([target], self.settings, store=self.engine.store(),
                                progress=False, on_progress=_within_file(progress, i, len(saved)))
            except Exception as exc:
                rows.append({"file": shown, "result": "failed",
                             "detail": explain(exc, self.settings.generator)[1]})
                continue
            if report.files_failed:
                reason = "; ".join(f["reason"] for f in report.files_failed)
                rows.append({"file": shown, "result": "failed", "detail": reason})
            elif report.files_ingested:
                added = report.chunks_added
                detail = f"{added} passage{'' if added == 1 else 's'} added to the index"
                rows.append({"file": shown, "result": "ingested",
                             "detail": f"{detail}; {note}" if note else detail})
            else:
                rows.append({"file": shown, "result": "unchanged",
                             "detail": "already in the index with the same content"})
        if progress is not None and saved:
            progress((len(saved), len(saved)), desc="Done", unit="files")
        if saved:
            self.engine.reset()  # the BM25 index is read when the Retriever is built
            threading.Thread(target=self.engine.warm_up, daemon=True).start()
        bad = [r for r in rows if r["result"] in ("failed", "refused")]
        if bad:
            gr.Warning(f"{len(bad)} of {len(rows)} file(s) not added: "
                       + "; ".join(f"{r['file']}: {r['detail']}" for r in bad)[:400])
        return results_html(rows), banner_html(*self.engine.status())


def _within_file(progress, i: int, files: int):
    """Upload progress inside one file (a large table is written for minutes): rows and prose
    chunks written. Ingest reports from its writer thread, and Gradio finds the event to update
    in the handler's context, so the report runs in a copy of it."""
    if progress is None:
        return None
    context = contextvars.copy_context()

    def show(at: FileProgress) -> None:
        of = f" ({i + 1} of {files} files)" if files > 1 else ""
        context.run(progress, (at.done, at.total), desc=f"Indexing {at.path}{of}", unit="rows")

    return show


def build_app(settings: Settings, corpus_dir: Path = Path("corpus"),
              engine: Engine | None = None) -> gr.Blocks:
    handlers = ChatHandlers(settings, corpus_dir, engine)
    with gr.Blocks(title="groundwork", analytics_enabled=False, fill_width=True) as demo:
        with gr.Row(equal_height=False):
            gr.HTML('<div class="gw-title"><h1>groundwork</h1><p>Answers from your own '
                    'documents: every sentence cites a passage; what they do not say is marked '
                    '<em>not documented</em>.</p></div>', elem_classes="gw-title")
        banner = gr.HTML(banner_html(True, "Opening the index..."), elem_id="gw-banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=7):
                chatbot = gr.Chatbot(label="Conversation", show_label=False, elem_id="gw-chat",
                                     height=620, feedback_options=None, buttons=[],
                                     autoscroll=False, latex_delimiters=[],
                                     placeholder="Ask a question about your documents.")
                with gr.Row(equal_height=True):
                    question = gr.Textbox(show_label=False, scale=8, elem_id="gw-question",
                                          placeholder="Ask a question about your documents",
                                          autofocus=True, max_length=MAX_QUESTION_CHARS)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="gw-ask")
                with gr.Column(visible=False, elem_id="gw-followups") as follow_box:
                    gr.Markdown("Want to dive deeper?", elem_id="gw-followups-label")
                    follow_ups = [gr.Button(visible=False, size="sm", elem_classes="gw-fu-btn",
                                            elem_id=f"gw-fu-{i}")
                                  for i in range(FOLLOW_UP_BUTTONS)]
                with gr.Row(equal_height=True):
                    generator = gr.Dropdown(generators(), value=settings.generator,
                                            label="Generator",
                                            info="extractive: offline, quotes the sources",
                                            elem_id="gw-generator")
                    top_k = gr.Slider(1, MAX_K, value=settings.top_k, step=1,
                                      label="Passages (top-k)", elem_id="gw-topk")
                    clear = gr.Button("New conversation", elem_id="gw-clear", size="sm",
                                      scale=0, min_width=150)
                with gr.Accordion("Copy answer with sources", open=False, elem_id="gw-copy-box"):
                    copy = gr.Textbox(label="Answer with sources (plain text)", lines=12,
                                      max_lines=30, interactive=False,
                                      buttons=["copy"], elem_id="gw-copy")
            with gr.Column(scale=5):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html([]), elem_id="gw-sources-panel")
                with gr.Accordion("Add documents to the index", open=False,
                                  elem_id="gw-upload") as upload_box:
                    files = gr.File(file_count="multiple", label="Upload documents "
                                    f"({', '.join(SUPPORTED)}; up to {settings.max_file_mb:g} MB)",
                                    elem_id="gw-files")
                    # Gradio's API-docs example for a File is a github.com URL; the page names
                    # no outside host, so the example is a local-looking empty list instead.
                    files.example_payload = list
                    results = gr.HTML("", elem_id="gw-upload-results")
        turns = gr.State([])
        out = Outputs(chatbot, turns, sources, follow_box, follow_ups, copy, question)

        ask_inputs = [question, chatbot, turns, generator, top_k]
        common = dict(outputs=out.all(), concurrency_id="ask", concurrency_limit=1,
                      show_progress="minimal")
        ask.click(handlers.respond, ask_inputs, api_visibility="private", **common)
        question.submit(handlers.respond, ask_inputs, api_visibility="private", **common)
        for button in follow_ups:
            button.click(handlers.respond, [button, chatbot, turns, generator, top_k],
                         api_visibility="private", **common)
        clear.click(handlers.clear, None, out.all(), api_visibility="private")
        # The chat's own trash button too: an emptied chat must not keep its turns as history.
        chatbot.clear(handlers.clear, None, out.all(), api_visibility="private")

        def upload(paths, progress=gr.Progress()):  # noqa: B008  (how Gradio injects it)
            table, status = handlers.add_documents(paths, progress)
            for path in paths or []:  # Gradio's copies: the corpus folder holds the documents
                Path(path).unlink(missing_ok=True)
            return table, status, None

        files.upload(upload, files, [results, banner, files], api_visibility="private",
                     concurrency_id="ingest", concurrency_limit=1)
        gr.api(handlers.answer, api_name="ask", concurrency_id="ask", concurrency_limit=1)
        def opened():
            ok, message = handlers.engine.status()
            return banner_html(ok, message), gr.update(open=not ok)

        demo.load(opened, None, [banner, upload_box], api_visibility="private")
    demo.queue(default_concurrency_limit=2, max_size=None)
    return demo


__all__ = ["ChatHandlers", "build_app", "mount_options"]
