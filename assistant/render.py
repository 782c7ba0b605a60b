"""An Answer as text a person reads: summary, sections, bottom line, sources, follow-ups."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types renders through this module: no import back at run time
    from assistant.types import Answer, Claim

# The one phrase for "the sources do not say". Defined once; the verifier and the renderer use it.
NOT_DOCUMENTED = "not documented"

_WIDTH = 100


def sections(answer: Answer) -> list[tuple[str, list[Claim]]]:
    """The numbered sections of the reference shape; the text and the UI both lay them out."""
    stated = [c for c in answer.claims if not c.gap]
    gaps = [c for c in answer.claims if c.gap]
    out = []
    if stated:
        direct = [c for c in stated if c.answers]
        context = [c for c in stated if not c.answers]
        out.append(("What the sources state", direct + context) if direct
                   else ("What the sources do state", context))
    if gaps:
        out.append(("What the sources do not document", gaps))
    return out


def is_compact(answer: Answer) -> bool:
    """A question with one part, answered: the answer alone, no sections. Several parts, or a
    part the sources do not document, get the reference's full structure."""
    asked = {label for c in answer.claims for label in c.answers}
    return answer.status == "answered" and len(asked) <= 1


def body(answer: Answer) -> list[str]:
    """What the answer says, without the question, the sources and the follow-ups."""
    if is_compact(answer):
        return [_wrap(" ".join(_cited(c) for c in answer.claims))]
    out = ["Executive summary", "", _wrap(answer.summary)]
    numbered = sections(answer)
    for number, (title, claims) in enumerate(numbered, 1):
        out += ["", f"{number}. {title}", "", _wrap(" ".join(_cited(c) for c in claims))]
    out += ["", f"{len(numbered) + 1}. Bottom line and reporting limitation", "",
            _wrap(bottom_line(answer))]
    return out


def render(answer: Answer) -> str:
    out = [answer.question]
    if answer.asked and answer.asked != answer.question:
        out = [answer.asked, f"Answering: {answer.question}"]
    out += [""] + body(answer)
    if answer.citations:
        out += ["", "Sources", ""]
        for c in answer.citations:
            where = c.source + (f", page {c.page}" if c.page else "")
            if c.cell:  # a table cell: where a person finds it
                where += (f", sheet {c.cell.sheet}" if c.cell.sheet else "") + (
                    f', {c.cell.caption}, row "{c.cell.row}"'
                    + (f', column "{c.cell.column}"' if c.cell.column else "")
                    + f" ({c.cell.address})")
            out.append(_wrap(f'[{c.n}] {where} - "{c.title}": "{c.quote}"', indent="    "))
    if answer.follow_ups:
        out += ["", "Want to dive deeper?"] + answer.follow_ups
    return "\n".join(out) + "\n"


def bottom_line(answer: Answer) -> str:
    stated = [c for c in answer.claims if not c.gap]
    lead = [c for c in stated if c.answers][:2] or stated[:1]
    gaps = [c for c in answer.claims if c.gap]
    if answer.status == "answered":
        return ("The sources answer every part of the question: "
                + " ".join(_cited(c) for c in lead))
    text = ""
    if lead:
        text = "What the sources support: " + " ".join(_cited(c) for c in lead) + " "
    if gaps:
        text += ("However, the following is " + NOT_DOCUMENTED + " in the sources, so no figure "
                 "is given for it rather than a guess: "
                 + "; ".join(g.text.split(": " + NOT_DOCUMENTED)[0] for g in gaps) + ".")
    elif not lead:
        text = f"Nothing in the indexed sources answers this question: it is {NOT_DOCUMENTED}."
    return text.strip()


def _cited(c: Claim) -> str:
    return c.text.rstrip(".") + "".join(f" [{n}]" for n in c.citations) + "."


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, _WIDTH, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)
