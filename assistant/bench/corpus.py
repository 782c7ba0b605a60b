"""Deterministic text from one small vocabulary: a markdown corpus to ingest, chunk-sized texts
for the sizes beyond it, questions, and seeded unit vectors. Same seed, same bench."""

from __future__ import annotations

import random
from pathlib import Path

from assistant.bench.common import DIM, SEED
from assistant.config import Settings

NOUNS = ["permit", "inspection", "grant", "complaint", "vehicle", "school", "clinic", "bridge",
         "contract", "survey", "audit", "licence", "patient", "tenant", "shipment", "hearing",
         "claim", "hydrant", "library card", "bus route", "well", "pothole", "apprentice",
         "volunteer", "ferry crossing", "water meter", "court case", "food bank", "streetlight",
         "allotment", "vaccination", "road closure", "fishing licence", "ambulance call"]
ADJECTIVES = ["annual", "regional", "urgent", "delayed", "municipal", "quarterly", "rural",
              "coastal", "emergency", "routine", "independent", "provisional", "revised",
              "northern", "southern", "temporary", "public", "private", "disputed", "final"]
VERBS = ["approved", "recorded", "reviewed", "rejected", "processed", "funded", "inspected",
         "closed", "opened", "delayed", "referred", "resolved", "registered", "repaired",
         "cancelled", "audited", "renewed", "issued", "flagged", "completed"]
ORGS = ["city council", "water board", "health department", "transit authority",
        "school district", "county court", "housing office", "fire service", "port authority",
        "parks department", "harbour trust", "library service", "roads agency", "census office",
        "energy regulator", "fisheries board"]
PLACES = ["Northfield", "Eastbrook", "Lowmoor", "Ashford", "Redhill", "Wexcombe", "Dunmere",
          "Calder Vale", "Brightwater", "Oakhurst", "Fenwick", "Stonebridge", "Marlow Heath",
          "Kingsreach", "Holloway", "Saltmarsh", "Glenarrow", "Pinecrest", "Thornby", "Ravensworth"]


def _plural(noun: str) -> str:
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2] not in "aeiou" else noun + "s"


def _number(rng: random.Random) -> str:
    value = rng.choice([rng.randint(2, 99), rng.randint(100, 9999), rng.randint(10000, 250000)])
    return f"{value:,}"


def sentence(rng: random.Random) -> str:
    n, a, v, o, p = (rng.choice(NOUNS), rng.choice(ADJECTIVES), rng.choice(VERBS), rng.choice(ORGS),
                     rng.choice(PLACES))
    year = rng.randint(2012, 2024)
    forms = [
        f"In {year}, the {a} {o} {v} {_number(rng)} {_plural(n)} in {p}.",
        f"The {o} of {p} {v} {_number(rng)} {_plural(n)} after the {a} review of {year}.",
        f"Staff at the {o} said that {rng.randint(2, 97)} percent of {a} {_plural(n)} were {v} "
        f"within {rng.randint(2, 60)} days.",
        f"Between {year - rng.randint(1, 6)} and {year}, {p} {v} {_number(rng)} {a} "
        f"{_plural(n)}, up from {_number(rng)}.",
        f"A {a} {n} costs the {o} about {_number(rng)} pounds a year in {p}.",
        f"No {a} {n} was {v} in {p} during {year}, according to the {o}.",
        f"The {o} expects to have {v} {_number(rng)} {_plural(n)} by the end of {year + 1}.",
    ]
    return rng.choice(forms)


def question(rng: random.Random) -> str:
    n, v, o, p = rng.choice(NOUNS), rng.choice(VERBS), rng.choice(ORGS), rng.choice(PLACES)
    year = rng.randint(2012, 2024)
    forms = [f"How many {_plural(n)} did the {o} report as {v} in {p} in {year}?",
             f"How many {_plural(n)} were {v} in {p} in {year}?",
             f"What share of {_plural(n)} did the {o} handle within the target time?",
             f"How much does a {n} cost the {o} in {p}?"]
    return rng.choice(forms)


def questions(n: int, seed: int = SEED) -> list[str]:
    rng = random.Random(f"{seed}-questions")
    out: list[str] = []
    while len(out) < n:
        q = question(rng)
        if q not in out:
            out.append(q)
    return out


def document(rng: random.Random, index: int, target_tokens: int, count_tokens) -> str:
    """A markdown report: a title, paragraphs, now and then an FAQ heading with its answer."""
    o, p = rng.choice(ORGS), rng.choice(PLACES)
    parts = [f"# {o.title()} of {p}: report {index:04d}", ""]
    tokens = 0
    while tokens < target_tokens:
        if rng.random() < 0.15:
            n, v, year = rng.choice(NOUNS), rng.choice(VERBS), rng.randint(2012, 2024)
            para = (f"## How many {_plural(n)} were {v} in {p} in {year}?\n\n"
                    f"The {o} {v} {_number(rng)} {_plural(n)} in {p} in {year}.")
        else:
            para = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
        parts += [para, ""]
        tokens += count_tokens(para)
    return "\n".join(parts)


def write_corpus(folder: Path, target_chunks: int, settings: Settings) -> list[str]:
    """Seeded markdown files holding about `target_chunks` chunks; returns the chunk texts."""
    from assistant.ingest import chunk
    from assistant.models import token_encoder

    encode = token_encoder()
    rng = random.Random(f"{SEED}-corpus")
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 20  # chunks per file, a long-ish report
    new_tokens = settings.chunk_tokens - settings.chunk_overlap
    texts: list[str] = []
    index = 0
    while len(texts) < target_chunks:
        want = min(per_file, target_chunks - len(texts))
        body = document(rng, index, max(want * new_tokens - 40, 40), lambda s: len(encode(s)))
        (folder / f"report_{index:04d}.md").write_text(body, encoding="utf-8")
        texts += [c[0] for c in chunk([body], settings)]
        index += 1
    return texts


def synthetic_texts(n: int, seed: int) -> list[str]:
    """Chunk-sized texts (about 128 cl100k tokens each) for the sizes beyond the real corpus."""
    rng = random.Random(f"{seed}-synthetic")
    out = []
    for _ in range(n):
        words, parts = 0, []
        while words < 80:
            s = sentence(rng)
            parts.append(s)
            words += s.count(" ") + 1
        out.append(" ".join(parts))
    return out


def unit_vectors(n: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v
