"""How the judge's threshold behaves inside the pipeline, where it reads only the sentences that
passed the exact checks (train.py --evaluate measures the judge alone, on every sentence).

    python -m assistant.judge.calibrate [CASES.jsonl]   # default: the calibration split

Each case is asked once with the threshold at 0 while the judge's scores are recorded; a case
counts as answered at threshold t when its best survivor scores >= t, and right when that
sentence holds an expected answer.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.evaluate import Evaluator, load_cases
from assistant.judge import data as judge_data
from assistant.judge import load_judge
from assistant.judge.train import contains, threshold_table


def best_survivors(cases) -> list[tuple[bool, float, bool]]:
    """(answerable, best score, best sentence holds an answer) per case; -inf for a case
    whose every sentence the exact checks refused."""
    judge = load_judge()
    judge.threshold, score, seen = 0.0, judge.score, []

    def recording(pairs):
        scores = score(pairs)
        seen.extend((q, c, float(x)) for (q, c), x in zip(pairs, scores))
        return scores

    judge.score = recording
    evaluator = Evaluator(Settings.load(judge=True))
    rows = []
    try:
        for case in cases:
            seen.clear()
            evaluator.assistant_for(case).ask(case.question)
            asked = [(c.split(" | ")[0], x) for q, c, x in seen if q.startswith("question:")]
            best = max(asked, key=lambda cx: cx[1], default=None)
            right = best is not None and any(contains(best[0], a) for a in case.answers)
            rows.append((case.answerable, -np.inf if best is None else best[1], right))
    finally:
        evaluator.close()
        judge.score = score
    return rows


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else judge_data.CALIBRATION_CASES
    answerable, best, right = (np.array(x) for x in zip(*best_survivors(load_cases([path]))))
    table = threshold_table(best, right, answerable, np.round(np.arange(0.3, 0.95, 0.05), 2))
    for t, row in table.items():
        print(f"t={t:.2f}: abstention {row['abstention']:.1%}, "
              f"answerable accuracy {row['accuracy']:.1%}")


if __name__ == "__main__":
    main()
