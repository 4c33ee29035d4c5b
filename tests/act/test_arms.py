"""Arms: a keyed hash of (play, customer), the same on every run, process and machine."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys

from journeykit.act import HOLDOUT, TREATMENT, arm_draw, arm_of
from journeykit.act.arms import arms


def test_known_draws_are_pinned() -> None:
    # Pinned values: a change of the hash would silently move customers between arms.
    assert arm_of("saas-trial", "first_board_nudge", "c1", 0.1) == TREATMENT
    assert arm_of("saas-trial", "first_board_nudge", "c2", 0.4) == HOLDOUT
    assert {c: round(arm_draw("saas-trial", "first_board_nudge", c), 6) for c in PINNED} == PINNED


PINNED = {"c0": 0.966635, "c1": 0.790579, "c2": 0.329842}


def test_same_arm_in_another_process() -> None:
    ids = [f"c{i}" for i in range(200)]
    here = arms("saas-trial", "trial_winback", ids, 0.2)
    code = (
        "import sys, json; from journeykit.act.arms import arms; "
        f"print(json.dumps(arms('saas-trial', 'trial_winback', {ids!r}, 0.2)))"
    )
    env_hash = {"PYTHONHASHSEED": "123"}  # Python's own str hash must play no part
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, **env_hash},
    )  # fmt: skip
    assert json.loads(out.stdout) == here


def test_holdout_share_within_three_standard_errors_on_100k() -> None:
    n, share = 100_000, 0.1
    ids = [f"cust-{i}" for i in range(n)]
    held = sum(a == HOLDOUT for a in arms("saas-trial", "first_board_nudge", ids, share))
    se = math.sqrt(share * (1 - share) / n)
    assert abs(held / n - share) < 3 * se, held / n
    for other in (0.0, 0.5):
        got = sum(a == HOLDOUT for a in arms("j", "p", ids[:20_000], other)) / 20_000
        assert abs(got - other) < 3 * math.sqrt(max(other * (1 - other), 1e-12) / 20_000) + 1e-9


def test_arm_does_not_depend_on_order_or_on_other_plays() -> None:
    ids = [f"c{i}" for i in range(5_000)]
    shuffled = ids[:]
    random.Random(4).shuffle(shuffled)
    first = dict(zip(ids, arms("j", "p1", ids, 0.3), strict=True))
    again = dict(zip(shuffled, arms("j", "p1", shuffled, 0.3), strict=True))
    assert first == again
    # Arms in two plays are independent draws: about 0.3 * 0.3 of customers held out of both.
    other = dict(zip(ids, arms("j", "p2", ids, 0.3), strict=True))
    both = sum(first[c] == HOLDOUT and other[c] == HOLDOUT for c in ids) / len(ids)
    assert abs(both - 0.09) < 3 * math.sqrt(0.09 * 0.91 / len(ids))
