"""How well stories are read: persona match and before/after detection on the labelled sets.

``tests/data/stories/labelled.csv`` (66 answers, 33 English, 33 Spanish) was written first and the
method was shaped on it; ``heldout.csv`` (20 answers, 10 each) was written after. Each answer has
its before and after as spans of its text and the persona it fits (the personas of
``journey_en.yaml`` / ``journey_es.yaml``). Per set and language:

- persona: share of answers whose matched persona is the labelled one (TF-IDF, no extra);
- before / after: mean token F1 of the found part against the labelled one (1 when both are
  empty), and the share with F1 >= 0.8;
- story: share where "has an after" (what makes an answer a story) agrees with the label;
- ms per answer for both steps.

    python bench/stories_accuracy.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.discover.story_eval import journeys, labelled, span_f1

from journeykit.discover.personas import match_personas
from journeykit.discover.story_parts import story_parts


def measure(name: str) -> dict[str, dict[str, float]]:
    rows = labelled(name)
    js = journeys()
    match_personas(["warm up"], js["en"])  # imports scikit-learn outside the timing
    out: dict[str, dict[str, float]] = {}
    for lang in ("en", "es", "all"):
        sub = [r for r in rows if lang in ("all", r.language)]
        t = time.perf_counter()
        hits = 0
        for language in ("en", "es"):
            part = [r for r in sub if r.language == language]
            got = match_personas([r.text for r in part], js[language])
            hits += sum(g.persona == r.persona for g, r in zip(got, part, strict=True))
        b, a, story = [], [], 0
        for r in sub:
            p = story_parts(r.text, r.language)  # type: ignore[arg-type]
            b.append(span_f1(r.text, r.before, p.before.text if p.before else None))
            a.append(span_f1(r.text, r.after, p.after.text if p.after else None))
            story += (p.after is not None) == bool(r.after)
        ms = (time.perf_counter() - t) * 1000 / len(sub)
        out[lang] = {
            "answers": len(sub), "persona": round(hits / len(sub), 3),
            "before_f1": round(sum(b) / len(sub), 3), "after_f1": round(sum(a) / len(sub), 3),
            "before_ok": round(sum(x >= 0.8 for x in b) / len(sub), 3),
            "after_ok": round(sum(x >= 0.8 for x in a) / len(sub), 3),
            "story": round(story / len(sub), 3), "ms_per_answer": round(ms, 2),
        }  # fmt: skip
    return out


def main() -> None:
    for name in ("labelled.csv", "heldout.csv"):
        print(name, json.dumps(measure(name), indent=1))


if __name__ == "__main__":
    main()
