"""The judge's data: public training splits, read by path, split by article, never committed.

Every source is a copy found in a public repository (recorded below with its commit and sha256,
so a copy that is partial or holds another dataset under a known name is caught). SQuAD 2.0
articles are split three ways: training, calibration (the threshold is chosen there) and test
(measured once). Only two articles of the copy carry unanswerable questions, and those are the
people-written ones worth measuring on, so one goes to calibration, one to test, and no
people-written unanswerable question is trained on.

    python -m assistant.judge.data --raw DIR   # writes evals/cases/squad_heldout.jsonl and
                                               # evals/calibration/squad_calibration.jsonl
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELDOUT_CASES = ROOT / "evals" / "cases" / "squad_heldout.jsonl"
CALIBRATION_CASES = ROOT / "evals" / "calibration" / "squad_calibration.jsonl"


@dataclass(frozen=True)
class Source:
    file: str  # name in the --raw folder
    repo: str
    commit: str
    path: str
    sha256: str
    licence: str


SQUAD = Source(
    file="phongntdo_train-v2.0.json", repo="PhongNTDo/guide_train_MRC_transformers",
    commit="f626fe886397c8c6b71fdb453707a1522b5c52dd", path="train-v2.0.json",
    sha256="53e67dd96e8597a8ef600e795d54d3fdef18486d42721884d38d652e2a2638cb",
    licence="CC BY-SA 4.0 (SQuAD 2.0)")
WIKIQA = Source(
    file="dataalchemist_WikiQA-train.tsv", repo="SiemensHalske/DataAlchemist",
    commit="f00790c79ec61f60151544c92701cff36fc57957", path="data/WikiQA-train.tsv",
    sha256="91f05770ee859b2bb4091e42e9c4943508433d1f4be955eecf8cb055c302e10e",
    licence="Microsoft Research Data License Agreement for WikiQA (research use)")
RTE = Source(
    file="marcwww_RTE-train.tsv", repo="marcwww/nlu_eval",
    commit="1403aef7eeb8e0876e28835daf0fa64918bea396", path="data/RTE/train.tsv",
    sha256="81d25e323e1ab5b2ad7cd445f1a69db89f2b1c104f3e26915a9421aa4a5f4735",
    licence="GLUE RTE train (PASCAL RTE 1, 2, 3, 5); no licence stated by GLUE")
SOURCES = (SQUAD, WIKIQA, RTE)

# The only two articles of the copy with unanswerable questions (160 and 188 of them).
CALIBRATION_ARTICLES = ("The_Legend_of_Zelda:_Twilight_Princess",)
TEST_ARTICLES = ("Spectre_(2015_film)",)
PER_PARAGRAPH = 6  # questions of each kind per paragraph, so cases spread over many paragraphs


def checked(raw: Path, source: Source) -> Path:
    """The source's file, refused when it is not the copy the model card names."""
    path = raw / source.file
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: fetch {source.repo}@{source.commit[:12]} "
                                f":{source.path} into {raw}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != source.sha256:
        raise ValueError(f"{path} has sha256 {digest}, not {source.sha256}: another copy")
    return path


@dataclass
class Question:
    id: str
    text: str
    answers: list[dict]  # {"text", "answer_start"}; empty when unanswerable
    impossible: bool


@dataclass
class Paragraph:
    article: str
    index: int  # k of "<article>-p<k>"
    context: str
    questions: list[Question]

    @property
    def passage(self) -> dict:
        return {"id": f"{self.article}-p{self.index}", "title": title(self.article),
                "text": self.context}


def title(article: str) -> str:
    return article.replace("_", " ")


def load_squad(raw: Path) -> dict[str, list[Paragraph]]:
    """Article -> paragraphs, each question checked to be SQuAD 2.0 (is_impossible present)."""
    data = json.loads(checked(raw, SQUAD).read_text(encoding="utf-8"))
    articles: dict[str, list[Paragraph]] = {}
    for article in data["data"]:
        paragraphs = []
        for k, p in enumerate(article["paragraphs"]):
            questions = []
            for q in p["qas"]:
                if "is_impossible" not in q:
                    raise ValueError(f"{q['id']}: no is_impossible, not SQuAD 2.0")
                questions.append(Question(q["id"], q["question"].strip(),
                                          [] if q["is_impossible"] else q["answers"],
                                          bool(q["is_impossible"])))
                if not q["is_impossible"] and not all(
                        p["context"][a["answer_start"]:].startswith(a["text"])
                        for a in q["answers"]):
                    raise ValueError(f"{q['id']}: answer_start does not point at the answer")
            paragraphs.append(Paragraph(article["title"], k, p["context"], questions))
        articles[article["title"]] = paragraphs
    return articles


def split(articles: dict[str, list[Paragraph]]) -> dict[str, dict[str, list[Paragraph]]]:
    held = set(CALIBRATION_ARTICLES) | set(TEST_ARTICLES)
    if not held <= articles.keys():
        raise ValueError(f"held-out articles missing from the copy: {held - articles.keys()}")
    return {
        "train": {a: ps for a, ps in articles.items() if a not in held},
        "calibration": {a: articles[a] for a in CALIBRATION_ARTICLES},
        "test": {a: articles[a] for a in TEST_ARTICLES},
    }


def _order(key: str) -> str:
    """A fixed pseudo-random order: the same cases on every machine, not the file's order."""
    return hashlib.sha1(key.encode()).hexdigest()


def cases(articles: dict[str, list[Paragraph]]) -> list[dict]:
    """Eval cases, balanced: as many answerable as unanswerable questions, at most
    PER_PARAGRAPH of each kind from any one paragraph."""
    picked: dict[bool, list[tuple[Paragraph, Question]]] = defaultdict(list)
    for paragraphs in articles.values():
        for p in paragraphs:
            for impossible in (True, False):
                qs = sorted((q for q in p.questions if q.impossible == impossible),
                            key=lambda q: _order(q.id))
                picked[impossible] += [(p, q) for q in qs[:PER_PARAGRAPH]]
    n = min(len(picked[True]), len(picked[False]))
    chosen = []
    for impossible in (True, False):
        chosen += sorted(picked[impossible], key=lambda pq: _order(pq[1].id))[:n]
    chosen.sort(key=lambda pq: (pq[0].article, pq[0].index, pq[1].id))
    return [{
        "id": f"squad2-{q.id}",
        "question": q.text,
        "answers": list(dict.fromkeys(a["text"] for a in q.answers)),
        "answerable": not q.impossible,
        "passages": [p.passage],
        "source": f"squad2-train:{p.article}",
    } for p, q in chosen]


@dataclass
class WikiQuestion:
    question: str
    sentences: list[str]  # the article summary's sentences, in order
    labels: list[int]


def load_wikiqa(raw: Path) -> list[WikiQuestion]:
    """Questions with their candidate sentences. Rows whose label is not 0/1 (a dozen in this
    copy, where a sentence id slipped into the label column) are dropped."""
    grouped: dict[str, WikiQuestion] = {}
    with checked(raw, WIKIQA).open(encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["Label"] not in ("0", "1"):
                continue
            q = grouped.setdefault(row["Question"], WikiQuestion(row["Question"], [], []))
            q.sentences.append(_unquote(row["Sentence"]))
            q.labels.append(int(row["Label"]))
    return list(grouped.values())


def load_rte(raw: Path) -> list[tuple[str, str, bool]]:
    """(premise, hypothesis, entailed): a claim is supported only when the text entails it."""
    with checked(raw, RTE).open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if {r["label"] for r in rows} != {"entailment", "not_entailment"}:
        raise ValueError("RTE labels are not entailment / not_entailment")
    return [(r["sentence1"], r["sentence2"], r["label"] == "entailment") for r in rows]


def _unquote(field: str) -> str:
    """The file is read without CSV quoting (its sentences hold stray quotes), so a quoted
    field keeps its wrapping and doubled quotes: undone here."""
    if len(field) > 1 and field[0] == field[-1] == '"':
        return field[1:-1].replace('""', '"')
    return field


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, required=True, help="folder of the fetched files")
    args = parser.parse_args(argv)
    splits = split(load_squad(args.raw))
    for name, path in (("test", HELDOUT_CASES), ("calibration", CALIBRATION_CASES)):
        rows = cases(splits[name])
        write_jsonl(path, rows)
        unanswerable = sum(not r["answerable"] for r in rows)
        print(f"{path.relative_to(ROOT)}: {len(rows)} cases, {unanswerable} unanswerable, "
              f"{len({r['passages'][0]['id'] for r in rows})} paragraphs")
    for name, articles in splits.items():
        qs = [q for ps in articles.values() for p in ps for q in p.questions]
        print(f"squad {name}: {len(articles)} articles, {len(qs)} questions, "
              f"{sum(q.impossible for q in qs)} unanswerable")
    wiki = load_wikiqa(args.raw)
    print(f"wikiqa: {len(wiki)} questions, {sum(len(q.labels) for q in wiki)} sentences, "
          f"{sum(any(q.labels) for q in wiki)} with an answer sentence")
    rte = load_rte(args.raw)
    print(f"rte: {len(rte)} pairs, {sum(e for *_, e in rte)} entailed")


if __name__ == "__main__":
    main()
