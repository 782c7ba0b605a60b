"""The chat UI: streamed drafts, verified answers with clickable [n], the passages they rest on.

`groundwork serve` calls `serve()`; `build_app()` returns the gr.Blocks for tests and embedding.
Everything the page needs is served by this process: no web fonts, no CDN, no analytics, and a
Content-Security-Policy header that keeps the browser from fetching anything from elsewhere.
"""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings, make_offline

make_offline()  # before gradio is imported: GRADIO_ANALYTICS_ENABLED=False

import gradio as gr  # noqa: E402

from assistant.answer import GeneratorError  # noqa: E402
from assistant.readers import SUPPORTED, Unreadable, extract  # noqa: E402
from assistant.render import bottom_line, render, sections  # noqa: E402
from assistant.store import StoreError  # noqa: E402
from assistant.types import Answer, Citation, Claim  # noqa: E402

log = logging.getLogger("groundwork.ui")

EMPTY_INDEX = "The index is empty: upload documents or run `groundwork ingest`."
FOLLOW_UP_BUTTONS = 3
_NAME_MAX = 120  # characters of a saved file's stem


def generators() -> list[str]:
    """The generator names the pipeline knows (its registry when it has one)."""
    from assistant import answer

    return list(getattr(answer, "GENERATORS", None) or ["extractive", "llama-cpp", "openai"])


# -- safe uploads --------------------------------------------------------------------------------


class UploadRefused(ValueError):
    """An upload that is not saved; the message is the reason shown in the result table."""


def safe_filename(name: str) -> str:
    """The name an uploaded file is saved under: its basename with only plain characters.

    Path parts (`../`, `/abs/`, `C:\\`) are dropped, odd characters become `_`, leading dots go
    (ingest skips hidden files). Raises UploadRefused when nothing usable is left or the type is
    not one ingest reads.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = re.sub(r"[^\w.\-]+", "_", base)  # spaces, controls, quotes, colons, wildcards
    base = re.sub(r"_{2,}", "_", re.sub(r"\.{2,}", ".", base))
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    suffix = f".{ext.lower()}" if ext else ""
    if suffix not in SUPPORTED:
        raise UploadRefused(f"unsupported file type '{suffix or '(none)'}' (supported: "
                            f"{', '.join(SUPPORTED)})")
    stem = stem.strip("._-")[:_NAME_MAX].rstrip("._-")  # no hidden or option-like names
    if not stem:
        raise UploadRefused(f"no usable file name in {name!r}")
    return stem + suffix


def safe_target(corpus_dir: Path, name: str) -> Path:
    """corpus_dir / safe_filename(name), refused unless it sits directly inside corpus_dir.

    The last component is not resolved: a symlink there is the caller's to refuse, not follow.
    """
    root = Path(corpus_dir).resolve()
    safe = safe_filename(name)
    target = root / safe
    if safe in (".", "..") or os.sep in safe or target.parent != root:
        raise UploadRefused(f"{name!r} would be saved outside the corpus folder")
    return target


def save_upload(source: str | Path, name: str, corpus_dir: Path, max_mb: float) -> tuple[Path, str]:
    """Check and copy one uploaded file into corpus_dir; returns (saved path, note).

    Refuses (UploadRefused) unsafe names, unsupported types, files over `max_mb` and files that
    ingest could not read, so that nothing unreadable is left in the corpus folder.
    """
    target = safe_target(corpus_dir, name)
    size = Path(source).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise UploadRefused(f"file is {size / 2**20:.1f} MB, over the {max_mb:g} MB limit "
                            "(setting max_file_mb)")
    data = Path(source).read_bytes()
    try:
        extract(target, data)
    except Unreadable as exc:
        raise UploadRefused(str(exc)) from None
    note = ""
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UploadRefused(f"{target.name} exists in the corpus folder and is not a plain file")
    if target.exists():
        note = "replaced the file of the same name" if target.read_bytes() != data else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)  # hidden: ingest skips it
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the document from other readers
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, note


# -- the engine: one Assistant per process, recreated after the index changes ---------------------


class Engine:
    """One Store and one Assistant per process, built under a lock (Chroma's client creation is
    not thread-safe); `reset()` after an ingest so the next question sees the new chunks."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._store = None
        self._assistant = None
        self._lock = threading.RLock()

    def store(self):
        from assistant.store import Store

        with self._lock:
            if self._store is None:
                self._store = Store(self.settings)
            return self._store

    def assistant(self):
        from assistant.pipeline import Assistant
        from assistant.retrieve import Retriever

        with self._lock:
            if self._assistant is None:
                # Loads the index now: StoreError when it is empty, and nothing is kept.
                retriever = Retriever(self.settings, store=self.store())
                self._assistant = Assistant(self.settings, retriever=retriever)
            return self._assistant

    def reset(self) -> None:
        with self._lock:
            self._assistant = None

    def warm_up(self) -> None:
        try:
            self.assistant()
        except Exception as exc:  # the banner and the first question report it
            log.info("index not loaded yet: %s", exc)

    def status(self) -> tuple[bool, str]:
        """(has documents, one line about the index)."""
        from assistant.ingest import Manifest

        try:
            store = self.store()
            chunks = store.count()
            files = len(Manifest(store.manifest_path).entries)
        except Exception as exc:
            return False, f"The index cannot be opened: {exc}"
        if not chunks:
            return False, EMPTY_INDEX
        return True, (f"{files} document{'' if files == 1 else 's'}, {chunks} "
                      f"passage{'' if chunks == 1 else 's'} indexed.")


# -- rendering -----------------------------------------------------------------------------------


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _src_id(turn: int, n: int) -> str:
    return f"src-{turn}-{n}"


def _cite(turn: int, n: int) -> str:
    sid = _src_id(turn, n)
    return (f'<a class="gw-cite" href="#{sid}" data-src="{sid}" title="Show source {n}">'
            f'[{n}]</a>')


_MARKER = re.compile(r"\s?\[(\d+)\]")


def _linked(text: str, turn: int, known: set[int]) -> str:
    """Escape text whose [n] markers came from the verifier, and make each known [n] a link."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in known:
            continue
        out += [_e(text[last:m.start()]), " ", _cite(turn, n)]
        last = m.end()
    out.append(_e(text[last:]))
    return "".join(out)


def _claim_html(c: Claim, turn: int) -> str:
    cites = "".join(" " + _cite(turn, n) for n in c.citations)
    cls = "gw-claim gw-gap" if c.gap else "gw-claim"
    return f'<span class="{cls}">{_e(c.text.rstrip("."))}{cites}.</span>'


def answer_html(answer: Answer, turn: int) -> str:
    """The verified answer as one HTML block for the chat (no blank lines: markdown leaves it)."""
    known = {c.n for c in answer.citations}
    status = {"answered": "Answered from your sources", "partial": "Partly documented",
              "not_documented": "Not documented in your sources"}.get(answer.status, answer.status)
    parts = [f'<div class="gw-answer gw-turn-{turn}">',
             f'<div class="gw-status gw-status-{_e(answer.status)}">{_e(status)}</div>',
             '<h3 class="gw-h">Executive summary</h3>',
             f'<p class="gw-summary">{_linked(answer.summary, turn, known)}</p>']
    if answer.undocumented:
        items = "".join(f"<li>{_e(u)}</li>" for u in answer.undocumented)
        parts.append('<div class="gw-nd" role="note"><div class="gw-nd-title">Not documented'
                     '</div><div class="gw-nd-lead">The sources do not state the following, so no '
                     f'figure is given rather than a guess:</div><ul>{items}</ul></div>')
    numbered = sections(answer)
    for number, (title, claims) in enumerate(numbered, 1):
        body = " ".join(_claim_html(c, turn) for c in claims)
        parts.append(f'<h4 class="gw-h">{number}. {_e(title)}</h4><p>{body}</p>')
    parts.append(f'<h4 class="gw-h">{len(numbered) + 1}. Bottom line and reporting limitation</h4>'
                 f'<p class="gw-bottom">{_linked(bottom_line(answer), turn, known)}</p>')
    if answer.citations:
        rows = "".join(
            f'<li>{_cite(turn, c.n)} <span class="gw-file">{_e(c.source)}</span>'
            f'{_e(f", page {c.page}") if c.page else ""} &middot; {_e(c.title)}</li>'
            for c in answer.citations)
        parts.append(f'<h4 class="gw-h">Sources</h4><ul class="gw-srclist">{rows}</ul>')
    if answer.follow_ups:
        items = "".join(f"<li>{_e(q)}</li>" for q in answer.follow_ups)
        parts.append(f'<h4 class="gw-h">Want to dive deeper?</h4><ul class="gw-fu">{items}</ul>')
    if answer.rejected:
        items = "".join(f"<li>{_e(c.text)} <em>({_e(c.reason or 'unsupported')})</em></li>"
                        for c in answer.rejected)
        parts.append(f'<details class="gw-rejected"><summary>{len(answer.rejected)} sentence(s) '
                     f'removed by the verifier</summary><ul>{items}</ul></details>')
    took = answer.timings.get("total")
    parts.append(f'<div class="gw-meta">{_e(answer.generator)} generator &middot; '
                 f'{len(answer.retrieved)} passages'
                 + (f" &middot; {took:.1f} s" if took is not None else "") + "</div></div>")
    # One HTML block for the chat's markdown: a blank line inside would end it.
    return "".join(parts).replace("\n", " ")


def draft_html(draft: str) -> str:
    # No blank line may reach the chat's markdown: it would end the HTML block.
    text = _e(draft.strip()).replace("\n", "<br>") or "Searching your documents&hellip;"
    return ('<div class="gw-draft"><div class="gw-draft-label">Draft &middot; checking every '
            f'sentence against the sources&hellip;</div><p>{text}</p></div>')


def _code(text: str) -> str:
    """Escaped text with `commands` shown as code."""
    return re.sub(r"`([^`<>]+)`", r"<code>\1</code>", _e(text))


def error_html(message: str) -> str:
    return (f'<div class="gw-error" role="alert"><strong>Could not answer.</strong> '
            f'{_code(message)}</div>')


def quote_span(c: Citation) -> tuple[int, int] | None:
    """Where the supporting span sits in c.text: quote_start:quote_end, else found by its words."""
    start, end = c.quote_start, c.quote_end
    if 0 <= start < end <= len(c.text) and (not c.quote or c.text[start:end].strip()
                                             == c.quote.strip() or c.quote not in c.text):
        return start, end
    found = c.text.find(c.quote) if c.quote else -1
    return (found, found + len(c.quote)) if found >= 0 else None


def _display(text: str) -> str:
    """Single line breaks (PDF layout) become spaces; the length, so every offset, is unchanged."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


def passage_html(text: str, spans: list[tuple[int, int, int]]) -> str:
    """The whole passage, escaped, with each (start, end, n) span in a <mark>."""
    cuts = sorted({0, len(text)} | {x for s, e, _ in spans for x in (s, e)})
    shown = _display(text)
    out = []
    for a, b in zip(cuts, cuts[1:]):
        ns = sorted({n for s, e, n in spans if s <= a and b <= e})
        piece = _e(shown[a:b])
        if ns:
            classes = " ".join(f"gw-m-{n}" for n in ns)
            label = ", ".join(f"[{n}]" for n in ns)
            piece = f'<mark class="{classes}" title="supports {label}">{piece}</mark>'
        out.append(piece)
    return "".join(out)


def source_cards(answer: Answer, turn: int) -> str:
    """One card per cited passage (citations of the same passage share it), in [n] order."""
    groups: dict[str, list[Citation]] = {}
    for c in sorted(answer.citations, key=lambda c: c.n):
        groups.setdefault(c.passage_id or f"n{c.n}", []).append(c)
    cards = []
    for cites in groups.values():
        first = cites[0]
        spans, missing = [], []
        for c in cites:
            span = quote_span(c)
            if span:
                spans.append((*span, c.n))
            elif c.quote:
                missing.append(c)
        anchors = "".join(f'<span class="gw-anchor" id="{_src_id(turn, c.n)}"></span>'
                          for c in cites[1:])
        numbers = "".join(f'<span class="gw-n">[{c.n}]</span>' for c in cites)
        page = f'<span class="gw-page">page {first.page}</span>' if first.page else ""
        extra = "".join(f'<div class="gw-quote">[{c.n}] supporting words: <mark>{_e(c.quote)}'
                        "</mark></div>" for c in missing)
        cards.append(f'<div class="gw-src" id="{_src_id(turn, first.n)}">{anchors}'
                     f'<div class="gw-src-head">{numbers}<span class="gw-file">'
                     f'{_e(first.source)}</span>{page}</div>'
                     f'<div class="gw-src-title">{_e(first.title)}</div>'
                     f'<div class="gw-passage">{passage_html(first.text, spans)}</div>{extra}'
                     "</div>")
    return "".join(cards)


def sources_html(turns: list[tuple[int, Answer]]) -> str:
    """Source cards of the latest answer, then earlier answers' cards folded away."""
    if not turns:
        return ('<div class="gw-sources"><div class="gw-empty">Sources appear here: each [n] in '
                'an answer opens the passage it rests on, with the supporting words '
                'highlighted.</div></div>')
    blocks = []
    for i, (turn, answer) in enumerate(reversed(turns)):
        cards = source_cards(answer, turn) or (
            '<div class="gw-empty">No passage supports an answer to this question.</div>')
        if i == 0:
            blocks.append(f'<div class="gw-turn gw-latest" data-turn="{turn}">'
                          f'<div class="gw-turn-q">{_e(answer.question)}</div>{cards}</div>')
        else:
            blocks.append(f'<details class="gw-turn" data-turn="{turn}"><summary>'
                          f'Earlier: {_e(answer.question)}</summary>{cards}</details>')
    return '<div class="gw-sources">' + "".join(blocks) + "</div>"


def results_html(rows: list[dict]) -> str:
    if not rows:
        return ""
    body = "".join(
        f'<tr class="gw-r-{_e(r["result"])}"><td>{_e(r["file"])}</td>'
        f'<td class="gw-result">{_e(r["result"])}</td><td>{_e(r["detail"])}</td></tr>'
        for r in rows)
    return ('<table class="gw-results"><thead><tr><th>file</th><th>result</th><th>detail</th>'
            f'</tr></thead><tbody>{body}</tbody></table>')


def banner_html(ok: bool, message: str) -> str:
    cls = "gw-banner" if ok else "gw-banner gw-banner-warn"
    return f'<div class="{cls}" role="status">{_code(message)}</div>'


# -- the page's look and behaviour ---------------------------------------------------------------


def theme() -> gr.themes.Base:
    """Fonts the machine already has: nothing is fetched from a font service."""
    return gr.themes.Default(
        primary_hue="indigo", neutral_hue="slate",
        font=[gr.themes.Font("ui-sans-serif"), "system-ui", "sans-serif"],
        font_mono=[gr.themes.Font("ui-monospace"), "monospace"])


CSS = """
.gw-title h1 { margin: 0 0 2px 0; font-size: 1.5rem; }
.gw-title p { margin: 0; color: var(--body-text-color-subdued); }
.gw-banner { padding: 6px 12px; border-radius: 8px; background: var(--background-fill-secondary);
  font-size: 0.9rem; }
.gw-banner-warn { background: #fef3c7; color: #78350f; border: 1px solid #f59e0b;
  font-weight: 600; }
.gw-answer h3.gw-h { font-size: 1.05rem; margin: 6px 0 4px; }
.gw-answer h4.gw-h { font-size: 0.98rem; margin: 12px 0 4px; }
.gw-answer p { margin: 0 0 6px; line-height: 1.5; }
.gw-status { display: inline-block; font-size: 0.75rem; font-weight: 700; letter-spacing: .03em;
  text-transform: uppercase; padding: 2px 8px; border-radius: 999px; background: #e0e7ff;
  color: #3730a3; }
.gw-status-partial { background: #fef3c7; color: #92400e; }
.gw-status-not_documented { background: #fee2e2; color: #991b1b; }
.gw-nd { border: 2px solid #f59e0b; background: #fffbeb; color: #78350f; border-radius: 8px;
  padding: 8px 12px; margin: 10px 0; }
.gw-nd-title { font-weight: 800; text-transform: uppercase; letter-spacing: .04em;
  font-size: 0.85rem; }
.gw-nd-title::before { content: "\\26A0\\FE0E  "; }
.gw-nd-lead { font-size: 0.85rem; margin: 2px 0; }
.gw-nd ul { margin: 4px 0 0 18px; padding: 0; }
.gw-gap { color: #92400e; }
a.gw-cite { font-weight: 700; text-decoration: none; color: var(--color-accent, #4f46e5);
  cursor: pointer; padding: 0 1px; border-radius: 3px; }
a.gw-cite:hover { background: #e0e7ff; }
.gw-srclist, .gw-fu { margin: 0 0 4px 18px; padding: 0; font-size: 0.88rem; }
.gw-file { font-family: var(--font-mono); font-size: 0.85em; }
.gw-meta { font-size: 0.75rem; color: var(--body-text-color-subdued); margin-top: 8px; }
.gw-rejected { font-size: 0.8rem; margin-top: 6px; color: var(--body-text-color-subdued); }
.gw-draft-label { font-size: 0.8rem; font-style: italic; color: var(--body-text-color-subdued); }
.gw-draft p { opacity: .8; }
.gw-error { border: 2px solid #dc2626; background: #fef2f2; color: #7f1d1d; border-radius: 8px;
  padding: 8px 12px; }
.gw-sources { max-height: 70vh; overflow-y: auto; padding: 2px 6px 2px 2px; }
.gw-sources .gw-empty { color: var(--body-text-color-subdued); font-size: 0.9rem; padding: 8px; }
.gw-turn-q { font-weight: 700; margin: 2px 0 8px; font-size: 0.92rem; }
.gw-turn > summary { cursor: pointer; font-size: 0.85rem; margin: 10px 0 6px;
  color: var(--body-text-color-subdued); }
.gw-src { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 10px;
  margin: 0 0 10px; background: var(--background-fill-primary); scroll-margin: 12px;
  transition: box-shadow .3s, border-color .3s, background .3s; }
.gw-src.active { border-color: #4f46e5; box-shadow: 0 0 0 3px #a5b4fc; background: #eef2ff; }
.gw-src-head { display: flex; gap: 8px; align-items: baseline; font-size: 0.85rem; }
.gw-n { font-weight: 800; color: #4f46e5; }
.gw-page { margin-left: auto; font-size: 0.8rem; color: var(--body-text-color-subdued); }
.gw-src-title { font-weight: 600; font-size: 0.88rem; margin: 2px 0 6px; }
.gw-passage { white-space: pre-wrap; font-size: 0.85rem; line-height: 1.45; }
.gw-passage mark, .gw-quote mark { background: #fde68a; color: inherit; padding: 0 1px;
  border-radius: 2px; }
.gw-passage mark.focus { background: #fcd34d; box-shadow: 0 0 0 2px #f59e0b; }
.gw-quote { font-size: 0.8rem; margin-top: 6px; }
.gw-results { width: 100%; border-collapse: collapse; font-size: 0.85rem; }
.gw-results th, .gw-results td { border-bottom: 1px solid var(--border-color-primary);
  padding: 4px 6px; text-align: left; vertical-align: top; }
.gw-r-ingested .gw-result { color: #166534; font-weight: 700; }
.gw-r-unchanged .gw-result { color: #475569; font-weight: 700; }
.gw-r-failed .gw-result, .gw-r-refused .gw-result { color: #b91c1c; font-weight: 700; }
#gw-followups { gap: 6px; }
#gw-followups button { justify-content: flex-start; text-align: left; font-weight: 500; }
#gw-followups button::before { content: "\\2192"; margin-right: 8px; color: #4f46e5; }
#gw-followups-label p { margin: 0; font-weight: 700; }
"""

# A click on [n] (in any answer) brings its source card forward: opened, scrolled to, outlined,
# its supporting words emphasised. A new answer is scrolled to its start, not its end.
JS = """
() => {
  const scrollParent = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (/(auto|scroll)/.test(style.overflowY) && p.scrollHeight > p.clientHeight) return p;
    }
    return null;
  };
  const focusSource = (id) => {
    const target = document.getElementById(id);
    const card = target && target.closest('.gw-src');
    if (!card) return false;
    document.querySelectorAll('.gw-src.active').forEach((el) => el.classList.remove('active'));
    document.querySelectorAll('.gw-src mark.focus').forEach((el) => el.classList.remove('focus'));
    for (let d = card.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
    card.classList.add('active');
    const n = id.split('-').pop();
    card.querySelectorAll('mark.gw-m-' + n).forEach((el) => el.classList.add('focus'));
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    history.replaceState(null, '', '#' + id);
    return true;
  };
  window.groundworkFocusSource = focusSource;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.gw-cite, a[href^="#src-"]');
    if (!link) return;
    const id = (link.getAttribute('href') || '').slice(1);
    event.preventDefault();
    event.stopPropagation();
    focusSource(id);
  }, true);
  let shown = 0;
  const follow = () => {
    const answers = document.querySelectorAll('#gw-chat .gw-answer');
    const drafts = document.querySelectorAll('#gw-chat .gw-draft, #gw-chat .gw-error');
    if (!answers.length && !drafts.length) { shown = 0; return; }
    const last = answers[answers.length - 1];
    const turn = last ? Number((last.className.match(/gw-turn-(\\d+)/) || [0, 0])[1]) : 0;
    const box = scrollParent(last || drafts[drafts.length - 1]);
    if (!box) return;
    if (drafts.length) { box.scrollTop = box.scrollHeight; return; }
    if (turn > shown) {
      shown = turn;
      // Show the question and the start of its answer.
      const row = last.closest('.message-row') || last;
      let prev = row.previousElementSibling;
      while (prev && !prev.classList.contains('message-row')) prev = prev.previousElementSibling;
      const top = prev && prev.classList.contains('user-row') ? prev : row;
      box.scrollTop += top.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
    }
  };
  new MutationObserver(() => requestAnimationFrame(follow))
    .observe(document.body, {childList: true, subtree: true});
}
"""

# Served as an HTTP header on every response: the page may only talk to this server.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self'; media-src 'self' data: blob:; worker-src 'self' blob:; "
       "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'")


class _CSPMiddleware:
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


def launch_options(settings: Settings) -> dict:
    """What `launch()` needs for this app besides host, port and auth (Gradio 6 takes theme, CSS
    and JS there, not in the Blocks constructor)."""
    from starlette.middleware import Middleware

    return dict(theme=theme(), css=CSS, js=JS, ssr_mode=False, pwa=False, mcp_server=False,
                share=False, inbrowser=False, show_error=False,
                footer_links=["api", "settings"], enable_monitoring=False,
                max_file_size=int(settings.max_file_mb * 1024 * 1024),
                app_kwargs={"middleware": [Middleware(_CSPMiddleware)]})


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


def _explain(exc: Exception, generator: str) -> str:
    if isinstance(exc, StoreError):
        return EMPTY_INDEX if "is empty" in str(exc) else str(exc)
    if isinstance(exc, GeneratorError | FileNotFoundError):
        return (f"The {generator} generator could not run: {exc}. The extractive generator works "
                "without any model server.")
    if isinstance(exc, ValueError):
        return str(exc)
    return f"Something went wrong ({type(exc).__name__}: {str(exc)[:300]})."


def _assistant(content: str) -> dict:
    return {"role": "assistant", "content": content}


class ChatHandlers:
    """The UI's behaviour, separate from its layout so that tests can call it directly."""

    def __init__(self, settings: Settings, corpus_dir: Path, engine: Engine | None = None):
        self.settings = settings
        self.corpus_dir = Path(corpus_dir)
        self.engine = engine or Engine(settings)

    def respond(self, question, history, turns, generator, k):
        """Yields (chatbot, turns, sources, follow-up box, *its buttons, copy text, question)."""
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
        try:
            stream = self.engine.assistant().stream(question, k=k, generator=generator)
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
            if not isinstance(exc, StoreError | GeneratorError | FileNotFoundError | ValueError):
                log.exception("answering %r failed", question)
            message = _explain(exc, generator)
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
               *buttons, render(answer), gr.skip()]

    def answer(self, question: str, generator: str = "extractive", k: int = 0) -> dict:
        """The verified answer as JSON (`text` is the rendered answer), or {"error": reason}."""
        generator = generator if generator in generators() else self.settings.generator
        try:
            answer = self.engine.assistant().ask(question, k=int(k) or None, generator=generator)
        except Exception as exc:
            if not isinstance(exc, StoreError | GeneratorError | FileNotFoundError | ValueError):
                log.exception("answering %r failed", question)
            return {"error": _explain(exc, generator)}
        return answer.to_dict()

    def clear(self):
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
                                progress=False)
            except Exception as exc:
                log.exception("ingesting %s failed", target)
                rows.append({"file": shown, "result": "failed",
                             "detail": _explain(exc, self.settings.generator)})
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
                                          autofocus=True, max_length=2000)
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
                    top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages (top-k)",
                                      elem_id="gw-topk")
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

        def upload(paths, progress=gr.Progress()):  # noqa: B008  (how Gradio injects it)
            table, status = handlers.add_documents(paths, progress)
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


def _auth() -> tuple[str, str] | None:
    password = os.environ.get("GROUNDWORK_UI_PASSWORD")
    if not password:
        return None
    return (os.environ.get("GROUNDWORK_UI_USER") or "groundwork", password)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          corpus_dir: Path = Path("corpus")) -> None:
    """Run the UI until interrupted. Binds loopback unless `host` says otherwise."""
    make_offline()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own startup probes
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    engine = Engine(settings)
    demo = build_app(settings, corpus_dir, engine)
    threading.Thread(target=engine.warm_up, daemon=True).start()
    auth = _auth()
    if host not in ("127.0.0.1", "localhost", "::1") and auth is None:
        log.warning("serving on %s without a password: anyone who can reach this port can read "
                    "your documents (set GROUNDWORK_UI_PASSWORD)", host)
    demo.launch(server_name=host, server_port=port, auth=auth,
                auth_message="groundwork: sign in" if auth else None,
                **launch_options(settings))


__all__ = ["ChatHandlers", "Engine", "UploadRefused", "build_app", "answer_html", "safe_filename",
           "save_upload", "serve", "sources_html"]
