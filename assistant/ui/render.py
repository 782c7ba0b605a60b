"""The chat's HTML: answers with linked [n], drafts, errors, source cards with the supporting words
highlighted, upload results and the index banner. Every piece of text is escaped here."""

from __future__ import annotations

import html
import re

from assistant.render import (
    MAY_ANSWER,
    bottom_line,
    is_compact,
    quote,
    sections,
    stated,
    unconfirmed_parts,
)
from assistant.types import Answer, Citation, Claim


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


def _claim_html(c: Claim, turn: int, answer: Answer) -> str:
    cites = "".join(" " + _cite(turn, n) for n in c.citations)
    if c.unconfirmed:  # the source's own words, marked: never shown as the answer
        return (f'<span class="gw-claim gw-unconfirmed"><span class="gw-uc-mark">'
                f'{_e(MAY_ANSWER)}:</span> <q>{_e(quote(answer, c).rstrip("."))}</q>{cites}.'
                "</span>")
    cls = "gw-claim gw-gap" if c.gap else "gw-claim"
    return f'<span class="{cls}">{_e(c.text.rstrip("."))}{cites}.</span>'


_STATUS = {"answered": "Answered from your sources", "partial": "Partly documented",
           "unconfirmed": "Not confirmed by your sources",
           "not_documented": "Not documented in your sources"}


def answer_html(answer: Answer, turn: int) -> str:
    """The verified answer as one HTML block for the chat (no blank lines: markdown leaves it).

    A one-fact answer is its sentence alone, as the text answer prints it; otherwise the
    reference's shape: summary, what is not confirmed or not documented, sections, bottom line."""
    known = {c.n for c in answer.citations}
    status = _STATUS.get(answer.status, answer.status)
    parts = [f'<div class="gw-answer gw-turn-{turn}">']
    if answer.asked and answer.asked != answer.question:  # a follow-up, made to stand alone
        parts.append(f'<div class="gw-answering">Answering: {_e(answer.question)}</div>')
    parts.append(f'<div class="gw-status gw-status-{_e(answer.status)}">{_e(status)}</div>')
    if is_compact(answer):
        body = " ".join(_claim_html(c, turn, answer) for c in stated(answer))
        parts.append(f'<p class="gw-one">{body}</p>')
    else:
        parts += ['<h3 class="gw-h">Executive summary</h3>',
                  f'<p class="gw-summary">{_linked(answer.summary, turn, known)}</p>',
                  _unconfirmed_html(answer, turn)]
        if answer.undocumented:
            items = "".join(f"<li>{_e(u)}</li>" for u in answer.undocumented)
            parts.append('<div class="gw-nd" role="note"><div class="gw-nd-title">Not documented'
                         '</div><div class="gw-nd-lead">The sources do not state the following, '
                         f'so no figure is given rather than a guess:</div><ul>{items}</ul></div>')
        # What is not confirmed is in its box above, with its quotes: not repeated as a section.
        numbered = [(t, cs) for t, cs in sections(answer) if not all(c.unconfirmed for c in cs)]
        for number, (title, claims) in enumerate(numbered, 1):
            body = " ".join(_claim_html(c, turn, answer) for c in claims)
            parts.append(f'<h4 class="gw-h">{number}. {_e(title)}</h4><p>{body}</p>')
        parts.append(f'<h4 class="gw-h">{len(numbered) + 1}. Bottom line and reporting '
                     f'limitation</h4><p class="gw-bottom">'
                     f'{_linked(bottom_line(answer), turn, known)}</p>')
    if answer.citations:
        rows = "".join(
            f'<li>{_cite(turn, c.n)} <span class="gw-file">{_e(c.source)}</span>'
            f'{_e(f", page {c.page}") if c.page else ""} &middot; {_e(c.title)}'
            + (f" &middot; {_e(c.cell.address)}" if c.cell else "") + "</li>"
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


def _unconfirmed_html(answer: Answer, turn: int) -> str:
    """A box like "Not documented": the parts the sources may answer, each with its quote."""
    items = "".join(
        f"<li>{f'<strong>{_e(label)}:</strong> ' if label else ''}"
        + " ".join(_claim_html(c, turn, answer) for c in claims) + "</li>"
        for label, claims in unconfirmed_parts(answer))
    if not items:
        return ""
    return ('<div class="gw-uc" role="note"><div class="gw-uc-title">Not confirmed</div>'
            '<div class="gw-uc-lead">The sources may answer this, but the checks could not '
            f'confirm it: read the quoted evidence before relying on it.</div><ul>{items}</ul>'
            "</div>")


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


def table_html(cites: list[Citation]) -> str:
    """A cited table chunk as a table: its caption, headers and rows, each cited cell marked
    (with its row label and column header); a row cited whole has its label marked."""
    cell = next(c.cell for c in cites if c.cell)
    hits = {tuple(c.cell.at): c for c in cites if c.cell}
    rows_hit = {r for r, _ in hits}
    cols_hit = {col for _, col in hits if col}
    head = "".join(f'<th scope="col"{_hit(j in cols_hit)}>{_e(h)}</th>'
                   for j, h in enumerate(cell.columns))
    body = []
    for r, row in enumerate(cell.rows):
        cells = [f'<th scope="row"{_hit(r in rows_hit)}>{_e(row[0] if row else "")}</th>']
        for j, text in enumerate(row[1:], start=1):
            c = hits.get((r, j))
            if c is None:
                cells.append(f"<td>{_e(text)}</td>")
            else:
                cells.append(f'<td class="gw-cell-hit gw-m-{c.n}" title="[{c.n}] '
                             f'{_e(c.cell.address)}"><mark class="gw-m-{c.n}">{_e(text)}'
                             "</mark></td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    where = f" &middot; sheet {_e(cell.sheet)}" if cell.sheet else ""
    named = "".join(f'<div class="gw-celladdr">[{c.n}] row &ldquo;{_e(c.cell.row)}&rdquo;'
                    + (f" &middot; column &ldquo;{_e(c.cell.column)}&rdquo;" if c.cell.column
                       else "") + f" &middot; {_e(c.cell.address)}</div>"
                    for c in cites if c.cell)
    return (f'<table class="gw-table"><caption>{_e(cell.caption)}{where}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{named}")


def _hit(on: bool) -> str:
    return ' class="gw-head-hit"' if on else ""


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
                     + (table_html(cites) if any(c.cell for c in cites) else
                        f'<div class="gw-passage">{passage_html(first.text, spans)}</div>'
                        f"{extra}")
                     + "</div>")
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

