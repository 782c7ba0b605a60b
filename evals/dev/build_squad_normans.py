"""Writes evals/dev/squad_normans.jsonl: every question of the *Normans* article of the SQuAD 2.0
dev set (208, 112 of them unanswerable), each with its own paragraph. The other dev files hold
few unanswerable questions (160 on one article, 2 of them answered), while the held-out file's
wrong answers are mostly unanswerable questions answered: this file is where the answer
decision may be tuned against them. The copy read is `dev-v2.0.json` of rabinadk1/ReadIt, which
holds the first article of the dev set only. SQuAD 2.0 is CC BY-SA 4.0 (Rajpurkar, Jia and
Liang, 2018).

    python evals/dev/build_squad_normans.py PATH/dev-v2.0.json
"""

import json
import sys
from pathlib import Path

OUT = Path(__file__).with_name("squad_normans.jsonl")


def main(raw: str) -> None:
    rows = []
    for article in json.loads(Path(raw).read_text(encoding="utf-8"))["data"]:
        if article["title"] != "Normans":
            continue
        for k, paragraph in enumerate(article["paragraphs"]):
            for q in paragraph["qas"]:
                rows.append({"id": f"squad2-{q['id']}", "question": q["question"].strip(),
                             "answers": sorted({a["text"] for a in q["answers"]}),
                             "answerable": not q["is_impossible"],
                             "passages": [{"id": f"{article['title']}-p{k}",
                                           "title": article["title"],
                                           "text": paragraph["context"]}],
                             "source": f"squad2-dev:{article['title']}"})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    print(f"{OUT}: {len(rows)} cases")


if __name__ == "__main__":
    main(sys.argv[1])
