"""Score planner benchmark: python -m benchmarks.planner [--runs N] [--json].

For every shipped question bank, with every scored question answered at random (seeded) and a
random whole-number effort of 1 to 10 per question, measures (medians of --runs) the pure
functions of core/planner.py that the Scores page calls on every rerun:

* project_ms: the scores with every lost-points question planned at its best answer;
* cheapest_ms: core.planner.cheapest_plan to the Low band (the default target);
* changes / effort: the size of that plan, so runs can be compared;
* calibration_ms: a fixed pure-Python loop of 2 million additions (the machines are shared).

Figures are printed, never asserted. The target is 100 ms per call (an interactive rerun).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from core.banks.frameworks import shipped_banks
from core.banks.model import Answer
from core.planner import best_answer, candidates, cheapest_plan, project
from core.scoring import lost_points, score_assessment

TARGET_MS = 100.0


def _median_ms(runs: int, call, *args, **kwargs) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _calibration_ms() -> float:
    start = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    return (time.perf_counter() - start) * 1000


def measure(runs: int) -> dict[str, dict[str, float]]:
    rng = random.Random(2026)
    figures = {}
    for bank in shipped_banks():
        answers = {}
        for question in bank.questions:
            if question.options:
                option = rng.choice(question.options).key
                answers[question.key] = Answer(
                    [option] if question.type == "multi_choice" else option
                )
        effort = {c.key: rng.randint(1, 10) for c in candidates(bank, answers)}
        now = score_assessment(bank, answers)
        planned = {
            item.key: answer
            for item in lost_points(bank, now)
            if (answer := best_answer(bank.question(item.key))) is not None
        }
        plan = cheapest_plan(bank, answers, "Low", effort=effort)
        figures[f"{bank.key} ({len(bank.questions)} questions)"] = {
            "project_ms": round(_median_ms(runs, project, bank, answers, planned), 2),
            "cheapest_ms": round(
                _median_ms(runs, cheapest_plan, bank, answers, "Low", effort=effort), 2
            ),
            "score_now": round(now.overall or 0.0, 1),
            "changes": len(plan.changes) if plan else -1,
            "effort": plan.effort if plan else -1,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(args.runs)
    calibration = round(_calibration_ms(), 1)
    if args.json:
        print(json.dumps({"banks": figures, "calibration_ms": calibration, "target_ms": TARGET_MS}))
        return
    print(f"{'bank':<48} {'project ms':>10} {'cheapest ms':>11} {'changes':>7} {'effort':>6}")
    for name, row in figures.items():
        mark = "ok" if row["cheapest_ms"] <= TARGET_MS else "MISSED"
        print(
            f"{name:<48} {row['project_ms']:>10} {row['cheapest_ms']:>11} "
            f"{row['changes']:>7} {row['effort']:>6}  {mark}"
        )
    print(f"calibration_ms {calibration}  (target {TARGET_MS:g} ms per call)")


if __name__ == "__main__":
    main()
