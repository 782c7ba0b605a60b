"""Writes evals/dev/squad_8articles.jsonl: 40 questions from each of the eight SQuAD 2.0 train
articles of the 10-article copy (`train-v2.0.json` of PhongNTDo/guide_train_MRC_transformers)
that are neither the held-out article (Spectre) nor the Twilight Princess one. That copy keeps
SQuAD's unanswerable questions for those two articles only, so every case here is answerable:
the file measures wrong answers (a sentence marked answered that does not state the answer),
not abstention. SQuAD 2.0 is CC BY-SA 4.0 (Rajpurkar, Jia and Liang, 2018).

    python evals/dev/build_squad_8articles.py PATH/train-v2.0.json
"""

import json
import random
import sys
from pathlib import Path

HELD = {"Spectre_(2015_film)", "The_Legend_of_Zelda:_Twilight_Princess"}
PER_ARTICLE = 40
OUT = Path(__file__).with_name("squad_8articles.jsonl")


def main(raw: str) -> None:
    rng = random.Random(0)
    rows = []
    for article in json.loads(Path(raw).read_text(encoding="utf-8"))["data"]:
        if article["title"] in HELD:
            continue
        asked = [(k, p["context"], q) for k, p in enumerate(article["paragraphs"])
                 for q in p["qas"]]
        for k, context, q in rng.sample(asked, PER_ARTICLE):
            rows.append({"id": f"squad2-{q['id']}", "question": q["question"].strip(),
                         "answers": sorted({a["text"] for a in q["answers"]}),
                         "answerable": True,
                         "passages": [{"id": f"{article['title']}-p{k}",
                                       "title": article["title"].replace("_", " "),
                                       "text": context}],
                         "source": f"squad2-train:{article['title']}"})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    print(f"{OUT}: {len(rows)} cases")


if __name__ == "__main__":
    main(sys.argv[1])
