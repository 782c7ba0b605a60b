"""An Answer as text a person reads: summary, sections, bottom line, sources, follow-ups."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types renders through this module: no import back at run time
    from assistant.types import Answer, Claim

# The one phrase for "the sources do not say". Defined once; the verifier and the renderer use it.
NOT_DOCUMENTED = "not documented"
# How evidence the checks could not confirm is introduced, wherever it is shown.
MAY_ANSWER = "The sources may answer this - not confirmed"

_WIDTH = 100


def stated(answer: Answer) -> list[Claim]:
    """The claims the answer asserts: neither a gap nor evidence the checks could not confirm."""
    return [c for c in answer.claims if not c.gap and not c.unconfirmed]


def unconfirmed(answer: Answer) -> list[Claim]:
    """Evidence of the asked kind that the checks could not confirm: shown, never as the answer."""
    return [c for c in answer.claims if c.unconfirmed and not c.gap]


def unconfirmed_parts(answer: Answer) -> list[tuple[str, list[Claim]]]:
    """Each part shown as "may answer" with the claims that show it: those naming the part, else
    every unconfirmed claim (the part is "" when the answer names none)."""
    maybe = unconfirmed(answer)
    labels = answer.unconfirmed or ([""] if maybe else [])
    return [(label, [c for c in maybe if label in c.answers] or maybe) for label in labels]


def sections(answer: Answer) -> list[tuple[str, list[Claim]]]:
    """The numbered sections of the reference shape; the text and the UI both lay them out."""
    facts, maybe = stated(answer), unconfirmed(answer)
    gaps = [c for c in answer.claims if c.gap]
    out = []
    if facts:
        direct = [c for c in facts if c.answers]
        context = [c for c in facts if not c.answers]
        out.append(("What the sources state", direct + context) if direct
                   else ("What the sources do state", context))
    if maybe:
        out.append(("What the sources may answer (not confirmed)", maybe))
    if gaps:
        out.append(("What the sources do not document", gaps))
    return out


def is_compact(answer: Answer) -> bool:
    """A question with one part, answered: the answer alone, no sections. Several parts, a part
    the sources do not document, or evidence not confirmed get the reference's full structure."""
    asked = {label for c in stated(answer) for label in c.answers}
    return answer.status == "answered" and len(asked) <= 1 and not unconfirmed(answer)


def body(answer: Answer) -> list[str]:
    """What the answer says, without the question, the sources and the follow-ups."""
    if is_compact(answer):
        return [_wrap(" ".join(_cited(c) for c in stated(answer)))]
    out = ["Executive summary", "", _wrap(answer.summary)]
    numbered = sections(answer)
    for number, (title, claims) in enumerate(numbered, 1):
        out += ["", f"{number}. {title}", "", _wrap(" ".join(_shown(answer, c) for c in claims))]
    out += ["", f"{len(numbered) + 1}. Bottom line and reporting limitation", "",
            _wrap(bottom_line(answer))]
    return out


def _shown(answer: Answer, claim: Claim) -> str:
    """A claim as the text answer shows it: unconfirmed evidence as the source's own words,
    marked as what may answer, so that it never reads as the answer."""
    if not claim.unconfirmed:
        return _cited(claim)
    label = (claim.answers[0] + ": ") if claim.answers and len(_parts(answer)) > 1 else ""
    return f"{label}{MAY_ANSWER}: {_marked(quote(answer, claim), claim.citations)}"


def quote(answer: Answer, claim: Claim) -> str:
    """The cited passages' own words for a claim (its text when it cites nothing known)."""
    known = {c.n: c.quote for c in answer.citations}
    quotes = [known[n] for n in claim.citations if known.get(n)]
    return " ".join(dict.fromkeys(quotes)) or claim.text


def _parts(answer: Answer) -> set[str]:
    """The question parts the answer speaks to, whatever their outcome."""
    return ({label for c in answer.claims if not c.gap for label in c.answers}
            | set(answer.undocumented) | set(answer.unconfirmed))


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
    facts = stated(answer)
    lead = [c for c in facts if c.answers][:2] or facts[:1]
    maybe = unconfirmed(answer)
    gaps = [c for c in answer.claims if c.gap]
    if answer.status == "answered" and not maybe:
        return ("The sources answer every part of the question: "
                + " ".join(_cited(c) for c in lead))
    text = ""
    if lead:
        text = "What the sources support: " + " ".join(_cited(c) for c in lead) + " "
    if maybe:
        asked = "; ".join(answer.unconfirmed) or "this question"
        marks = "".join(f" [{n}]" for n in dict.fromkeys(n for c in maybe for n in c.citations))
        text += (f"Not confirmed: the sources may answer {asked}, but the checks could not "
                 "confirm it, so it is not given as the answer: read the quoted evidence"
                 f"{marks} before relying on it. ")
    if gaps:
        text += ("However, the following is " + NOT_DOCUMENTED + " in the sources, so no figure "
                 "is given for it rather than a guess: "
                 + "; ".join(g.text.split(": " + NOT_DOCUMENTED)[0] for g in gaps) + ".")
    elif not lead and not maybe:
        text = f"Nothing in the indexed sources answers this question: it is {NOT_DOCUMENTED}."
    return text.strip()


def _cited(c: Claim) -> str:
    return _marked(c.text, c.citations)


def _marked(text: str, citations: list[int]) -> str:
    return text.rstrip(".") + "".join(f" [{n}]" for n in citations) + "."


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, _WIDTH, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)
