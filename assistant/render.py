"""An Answer as text a person reads: summary, sections, bottom line, sources, follow-ups."""

from __future__ import annotations

import textwrap

from assistant.types import NOT_DOCUMENTED, Answer, Claim

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


def render(answer: Answer) -> str:
    out = [answer.question, "", "Executive summary", "", _wrap(answer.summary)]
    numbered = sections(answer)
    for number, (title, claims) in enumerate(numbered, 1):
        out += ["", f"{number}. {title}", "", _wrap(" ".join(_cited(c) for c in claims))]
    out += ["", f"{len(numbered) + 1}. Bottom line and reporting limitation", "",
            _wrap(bottom_line(answer))]
    if answer.citations:
        out += ["", "Sources", ""]
        for c in answer.citations:
            where = c.source + (f", page {c.page}" if c.page else "")
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
