"""``journeykit opportunities`` on about 10M events and 50,000 answers, against the report's
analyses on the same data.

Must hold (issue 19): opportunities cost at most 2x the report's analyses. Both sides, in one
process, in turn:

- report's analyses: what ``journeykit report --answers`` computed before this issue: themes of
  the answers (``find_themes``) and ``measure`` in full mode (milestone log, funnel and positions
  per path, paths, counts, CLV, community) with ``decide`` switched off;
- opportunities: what ``journeykit opportunities --answers`` computes: the same themes and
  ``measure`` with ``decide`` (persona of every customer, the ranked leaks per persona, early
  wins, testimonial texts, the proof library from every answer, heroes).

Themes are the same call on both sides, so they are timed once and added to both. Wall and CPU
seconds; numba warmed up on a small log first. The 50,000 answers are the labelled stories and
the demo answers, each written many ways (an opener, a closer, a number), with a random stage and
consent; the themes use TF-IDF with 12 themes (no embeddings to encode).

    python bench/opportunities_bench.py --events /tmp/jk-map-bench/sim_10m.parquet
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from pathlib import Path

from report_bench import _timed, simulated_events

from journeykit.discover import AnswerColumns, find_themes, read_answers
from journeykit.engine import connect
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import load_journey
from journeykit.measure import measure

REPO = Path(__file__).resolve().parents[1]
OPENERS = ("", "Honestly, ", "Well, ", "To be fair, ", "Sinceramente, ", "Bueno, ")
CLOSERS = ("", " Thanks!", " That is my story.", " Gracias.", " Really.")


def write_answers(path: Path, n: int, stages: list[str]) -> None:
    texts = []
    for name in ("tests/data/stories/labelled.csv", "tests/data/stories/heldout.csv",
                 "src/journeykit/discover/data/demo_answers.csv"):  # fmt: skip
        with (REPO / name).open(encoding="utf-8") as fh:
            texts += [r["answer"] for r in csv.DictReader(fh) if r["answer"].strip()]
    rng = random.Random(0)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["respondent", "stage", "consent", "answer"])
        for i in range(n):
            text = f"{rng.choice(OPENERS)}{rng.choice(texts)}{rng.choice(CLOSERS)} ({i % 997})"
            w.writerow([f"r{i}", rng.choice(stages), rng.choice(["yes", "no", ""]), text])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_150_000)
    ap.add_argument("--events", type=Path, default=Path("/tmp/jk-map-bench/sim_10m.parquet"))
    ap.add_argument("--answers", type=int, default=50_000)
    ap.add_argument("--template", default="saas-trial")
    args = ap.parse_args()
    journey = load_journey(REPO / "examples" / f"{args.template}.yaml")
    simulated_events(journey, args.events, args.customers)
    answers_file = args.events.with_name(f"answers_{args.answers}.csv")
    stages = [s.id for s in journey.stages] + [m.id for m in journey.milestones]
    write_answers(answers_file, args.answers, stages)
    events = connect().events(str(args.events))
    rows = int(events.count().to_pyarrow().as_py())

    import ibis

    import journeykit.decide as decide_module

    small = simulate(journey, SimulationOptions(customers=2_000, seed=2))
    measure(ibis.memtable(small), journey)  # numba compiles once per process, outside the timing
    cols = AnswerColumns(text="answer", respondent="respondent", stage="stage", consent="consent")
    t_read = _timed(lambda: read_answers(answers_file, cols))
    answers = t_read[2]
    t_themes = _timed(lambda: find_themes(answers, method="tfidf", k=12, seed=0))
    themes = t_themes[2]
    print("themes", t_themes[:2], flush=True)
    real = decide_module.decide
    decide_module.decide = lambda *a, **k: None  # type: ignore[assignment]
    t_base = _timed(lambda: measure(events, journey, themes=themes))
    decide_module.decide = real  # type: ignore[assignment]
    print("report's analyses (measure, no decide)", t_base[:2], flush=True)
    t_full = _timed(lambda: measure(events, journey, themes=themes, answers=answers))
    print("opportunities (measure with decide)", t_full[:2], flush=True)
    d = t_full[2].decisions
    base = [t_read[i] + t_themes[i] + t_base[i] for i in (0, 1)]
    full = [t_read[i] + t_themes[i] + t_full[i] for i in (0, 1)]
    print(json.dumps({
        "events": rows, "answers": args.answers,
        "themes_s": round(t_themes[0], 1), "themes_cpu_s": round(t_themes[1], 1),
        "measure_s": round(t_base[0], 1), "measure_cpu_s": round(t_base[1], 1),
        "measure_with_decide_s": round(t_full[0], 1),
        "measure_with_decide_cpu_s": round(t_full[1], 1),
        "report_analyses_s": round(base[0], 1), "report_analyses_cpu_s": round(base[1], 1),
        "opportunities_s": round(full[0], 1), "opportunities_cpu_s": round(full[1], 1),
        "ratio_wall": round(full[0] / base[0], 3), "ratio_cpu": round(full[1] / base[1], 3),
        "leaks": len(d.opportunities.opportunities), "stories": len(d.proof.stories),
        "shareable": len(d.proof.shareable),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
