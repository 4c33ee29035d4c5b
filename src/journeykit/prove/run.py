"""``prove``: every play's proof (or every experiment of an assignments file), as one typed result
for the CLI, the web app, the report and notebooks.

One scan of the events builds the milestone log (with each customer's persona); every
entry is judged against it at ``now``; the proof per play follows from the outcomes alone. The
value at stake needs the CLV pipeline and is left out, with a note, where the journey has no
purchase milestone with values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from journeykit.analytics.milestones import Events, MilestoneFrame, milestone_frame
from journeykit.analytics.results import _Tabular, iso_time
from journeykit.errors import JourneykitError
from journeykit.journey.durations import format_duration
from journeykit.journey.schema import Journey
from journeykit.prove.outcomes import (
    FAILED,
    REACHED,
    EntryColumns,
    LogKeys,
    events_before,
    outcomes,
)
from journeykit.prove.proof import (
    DEFAULT_LIFT,
    MIN_PER_ARM,
    Judged,
    Labels,
    PlayProof,
    ValueAtStake,
    first_per_customer,
    prove_arms,
)
from journeykit.prove.stats import Estimate

if TYPE_CHECKING:
    import pyarrow as pa

    from journeykit.analytics.opportunities import PlayVerdict
    from journeykit.clv.journey import JourneyCustomers
    from journeykit.prove.touchpoints import Association
    from journeykit.workspace import Workspace

_US = 10**6
NO_PERSONA = "(none)"


class ProveError(JourneykitError):
    """A proof cannot be made as asked."""


@dataclass(frozen=True)
class ProveResult(_Tabular):
    """What the plays changed, as of ``now``."""

    journey: str
    now: int
    results: tuple[PlayProof, ...]
    touchpoints: tuple[Association, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "now": iso_time(self.now),
            "journey": self.journey,
            "results": [r.to_dict() for r in self.results],
            "touchpoints": [t.to_dict() for t in self.touchpoints],
            "notes": list(self.notes),
        }

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.results]

    def verdicts(self) -> dict[str, PlayVerdict]:
        """Per play: the verdict and the difference with its sequential interval (the one the
        verdict is read from), as the opportunities show what is being done."""
        from journeykit.analytics.opportunities import PlayVerdict

        out = {}
        for r in self.results:
            s = r.sequential
            out[r.id] = PlayVerdict(
                r.verdict or "no verdict",
                None if s is None else s.estimate,
                None if s is None else s.ci_low,
                None if s is None else s.ci_high,
            )
        return out

    def get(self, ident: str) -> PlayProof:
        for r in self.results:
            if r.id == ident:
                return r
        raise KeyError(ident)


def prove(
    events: Events,
    journey: Journey,
    *,
    workspace: Workspace | None = None,
    play: str | None = None,
    assignments: Path | None = None,
    goal: str | None = None,
    within: timedelta | None = None,
    holdout_share: float | None = None,
    now: datetime | None = None,
    min_per_arm: int = MIN_PER_ARM,
    lift: float = DEFAULT_LIFT,
    value: bool = True,
    touchpoints: bool = True,
) -> ProveResult:
    """The proof of each play recorded in ``workspace``'s ledger (or of each experiment in the
    ``assignments`` file, measured against ``goal`` within ``within``), judged at ``now``
    (default: the latest event).

    ``holdout_share`` is the designed split of an assignments file (plays carry their own); the
    sample-ratio check needs it. ``min_per_arm``: decided entries per arm before any verdict.
    ``lift``: the absolute lift the sample-size guidance is computed for.
    """
    from journeykit.prove.touchpoints import with_touchpoints

    if assignments is None and workspace is None:
        raise ProveError("give a workspace (its plays' entries) or --assignments FILE")
    if assignments is not None:
        if goal is None or within is None:
            raise ProveError("--assignments needs --goal MILESTONE and --within DURATION")
        try:
            journey.milestone(goal)
        except KeyError as exc:
            raise ProveError(f"--goal: {exc.args[0]}") from None
    if holdout_share is not None and not 0 < holdout_share < 1:
        raise ProveError(f"--holdout-share: expected a share between 0 and 1, got {holdout_share}")
    frame = milestone_frame(events, with_touchpoints(journey), now=now, personas=True)
    keys = LogKeys(frame)
    notes: list[str] = []
    if assignments is not None:
        cases = _from_assignments(assignments, frame, goal or "", within or timedelta(0))
        shares: dict[str, float | None] = {c[0]: holdout_share for c in cases}
        if holdout_share is None:
            notes.append(
                "sample-ratio check not possible: give --holdout-share (the designed split)"
            )
    else:
        assert workspace is not None
        cases, shares = _from_ledger(workspace, journey, play, frame, keys)
    values = _value_of(frame, journey, [c[2] for c in cases], notes) if value else {}
    labels = _customer_groups(frame, journey)
    results = []
    for ident, title, goal_id, columns in cases:
        results.append(
            _one(frame, keys, labels, ident, title, goal_id, columns, shares.get(ident), values,
                 min_per_arm, lift)
        )  # fmt: skip
    found: tuple[Association, ...] = ()
    if touchpoints and any(t.when is not None for t in journey.touchpoints):
        from journeykit.prove.touchpoints import associations

        found = associations(frame, journey)
    return ProveResult(journey.id, frame.now, tuple(results), found, tuple(notes))


Case = tuple[str, str, str, EntryColumns]  # id, title, goal (or a description), entries


_LEDGER_COLUMNS = ("play_id", "customer_id", "entered_at", "goal", "window_seconds", "arm")


def _from_ledger(
    ws: Workspace, journey: Journey, play: str | None, frame: MilestoneFrame, keys: LogKeys
) -> tuple[list[Case], dict[str, float | None]]:
    from journeykit.act.ledger import entry_table, open_ledger
    from journeykit.act.run import select_plays

    chosen = select_plays(journey, play)
    if not ws.database.exists():
        table = None
    else:
        engine = open_ledger(ws, read_only=True)
        try:
            # By seq alone: entries of one customer and play at one time stay in seq order,
            # which is all that the first entry per customer needs to be the same every run.
            table = entry_table(
                engine, journey.id, [p.id for p in chosen], _LEDGER_COLUMNS, order_by=("seq",)
            )
        finally:
            engine.close()
    cust = None  # every entry's customer number in the log, looked up once for all plays
    if table is not None and table.num_rows:
        cust = keys.customer_index(table.column("customer_id"))
    cases: list[Case] = []
    for p in chosen:
        cols = _ledger_columns(table, p.id, frame.now, cust)
        goals = sorted(set(cols.goal.tolist()))
        goal = goals[0] if len(goals) == 1 else (p.goal.milestone or "the next step")
        cases.append((p.id, p.title, goal, cols))
    return cases, {p.id: p.holdout for p in chosen}


def _ledger_columns(
    table: pa.Table | None, play_id: str, now: int, cust: np.ndarray | None
) -> EntryColumns:
    empty = np.array([], dtype=object)
    if table is None or table.num_rows == 0 or cust is None:
        return EntryColumns(empty, np.array([], np.int64), empty, np.array([], np.int64), empty)
    import pyarrow.compute as pc

    is_mine = pc.equal(table.column("play_id"), play_id)
    mine = table.filter(is_mine)
    cust = cust[is_mine.to_numpy(zero_copy_only=False)]
    entered = mine.column("entered_at").cast("timestamp[us]").cast("int64").to_numpy()
    keep = entered <= now  # entries made after "now" had not happened yet
    return EntryColumns(
        customer_id=_objects(mine.column("customer_id"))[keep],
        entered=entered[keep].astype(np.int64),
        goal=_labels(mine.column("goal"))[keep],
        window=(mine.column("window_seconds").to_numpy() * _US).astype(np.int64)[keep],
        arm=_labels(mine.column("arm"))[keep],
        cust=cust[keep],
    )


def _objects(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)


def _labels(column: pa.ChunkedArray) -> np.ndarray:
    """A column of few distinct texts (arms, goals) as objects: one Python string per distinct
    value, not per row."""
    coded = column.combine_chunks().dictionary_encode()
    values = np.asarray(coded.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    codes = coded.indices.to_numpy(zero_copy_only=False)
    return values[codes] if values.size else np.array([], dtype=object)


def _from_assignments(
    path: Path, frame: MilestoneFrame, goal: str, within: timedelta
) -> list[Case]:
    from journeykit.prove.assignments import read_assignments

    a = read_assignments(path, now_us=frame.now)
    window = int(within / timedelta(microseconds=1))
    cases: list[Case] = []
    for exp in a.experiments():
        rows = np.flatnonzero(a.experiment == exp)
        cols = EntryColumns(
            a.customer_id[rows], a.entered[rows], np.full(rows.size, goal, dtype=object),
            np.full(rows.size, window, dtype=np.int64), a.arm[rows],
        )  # fmt: skip
        cases.append((exp, exp, goal, cols))
    return cases


def _one(
    frame: MilestoneFrame,
    keys: LogKeys,
    labels: dict[str, Labels],
    ident: str,
    title: str,
    goal: str,
    cols: EntryColumns,
    share: float | None,
    values: dict[str, float | None],
    min_per_arm: int,
    lift: float,
) -> PlayProof:
    cust = cols.cust if cols.cust is not None else keys.customer_index(cols.customer_id)
    who = cust.copy()  # a distinct number per customer, also for those not in the log
    missing = cust < 0
    if missing.any():
        _, code = np.unique(cols.customer_id[missing].astype(str), return_inverse=True)
        who[missing] = frame.customers + code
    rows = first_per_customer(who, cols.entered)
    cols = replace(cols, cust=cust).take(rows)
    out = outcomes(frame, cols, keys)
    judged = Judged(
        arm=cols.arm,
        out=out,
        pre=events_before(frame, out.cust, cols.entered, keys).astype(np.float64),
        groups=_groups(labels, out.cust),
    )
    windows = sorted(set(cols.window.tolist()))
    within = (
        format_duration(timedelta(microseconds=windows[0])) if len(windows) == 1 else "per goal"
    )
    proof = prove_arms(
        ident, title, goal, within, judged, holdout_share=share, min_per_arm=min_per_arm, lift=lift
    )
    return _with_value(proof, cols, out.outcome, values)


def _customer_groups(frame: MilestoneFrame, journey: Journey) -> dict[str, Labels]:
    """Per customer of the log: entry cohort (month of the first milestone) and persona, worked
    out once for every play, as codes (comparing a million label strings per group cost a
    second a play)."""
    from journeykit.clv.journey import entry_months

    out = {"cohort": Labels(*entry_months(frame))}
    if any(p.segment is not None for p in journey.personas) and frame.persona is not None:
        ids = np.array([p.id for p in journey.personas], dtype=object)
        out["persona"] = Labels(ids, frame.persona.astype(np.int64))
    return out


def _groups(labels: dict[str, Labels], cust: np.ndarray) -> dict[str, Labels]:
    """Per entry: its customer's labels (``NO_PERSONA`` for a customer not in the log or
    without a label)."""
    inside = cust >= 0
    out = {}
    for by, per_customer in labels.items():
        none = per_customer.names.size  # the code of NO_PERSONA, appended
        codes = np.full(cust.size, none, dtype=np.int64)
        codes[inside] = per_customer.codes[cust[inside]]
        codes[codes < 0] = none
        out[by] = Labels(np.append(per_customer.names, NO_PERSONA), codes)
    return out


def _value_of(
    frame: MilestoneFrame, journey: Journey, goals: Sequence[str], notes: list[str]
) -> dict[str, float | None]:
    """Per goal milestone: the expected CLV gap between customers past it and the rest."""
    from journeykit.clv.defaults import HORIZON_MONTHS
    from journeykit.clv.gap import buyer_rows, value_gap
    from journeykit.clv.journey import journey_customers

    wanted = sorted({g for g in goals if g in {m.id for m in journey.milestones}})
    if not wanted:
        return {}
    try:
        data: JourneyCustomers = journey_customers(frame, journey, with_groups=False)
    except JourneykitError as exc:
        notes.append(f"value at stake not measured: {exc}")
        return {}
    out: dict[str, float | None] = {}
    rows = buyer_rows(data, frame)
    for g in wanted:
        gap = value_gap(
            data, frame, g, among=_step_before(journey, g), horizon_months=HORIZON_MONTHS,
            buyer_of=rows,
        )  # fmt: skip
        out[g] = gap.gap
        if gap.note:
            notes.append(f"value at {g}: {gap.note}")
    return out


def _step_before(journey: Journey, goal: str) -> str | None:
    for p in journey.paths:
        ids = [s.milestone for s in p.steps]
        if goal in ids and ids.index(goal) > 0:
            return ids[ids.index(goal) - 1]
    return None


def _with_value(
    proof: PlayProof, cols: EntryColumns, outcome: np.ndarray, values: dict[str, float | None]
) -> PlayProof:

    a = proof.absolute
    if a is None:
        return proof
    treated = int(((cols.arm == "treatment") & ((outcome == REACHED) | (outcome == FAILED))).sum())
    extra = Estimate(a.estimate * treated, a.ci_low * treated, a.ci_high * treated)
    goals = sorted(set(cols.goal.tolist()))
    gap = values.get(goals[0]) if len(goals) == 1 else None
    if gap is None:
        why = "goals differ per entry" if len(goals) > 1 else "no CLV gap measured at the goal"
        return replace(proof, value_at_stake=ValueAtStake(extra, None, None, why))
    low, high = sorted((extra.ci_low * gap, extra.ci_high * gap))
    value = Estimate(extra.estimate * gap, low, high)
    note = f"{treated:,} decided treatment entries x the difference x the CLV gap at the goal"
    return replace(proof, value_at_stake=ValueAtStake(extra, gap, value, note))
