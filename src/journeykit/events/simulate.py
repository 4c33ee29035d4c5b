"""A realistic event log for any journey: deterministic for a seed, vectorised with numpy.

Each customer gets a persona and a designed path (both weighted), then walks the path: step k is
reached with a probability that declines along the path; the gap from the previous step is
lognormal with a median of a third of the step's ``expected_within`` (or ``within``), so most
arrive on time and about one in eight is late (stuck, as the design judges it). On the way:
optional steps skipped, some milestones reached but never logged (strays), some earlier milestones
repeated later (backwards), milestones of no path now and then (off path), noise events whose
names no rule uses, and a quarter of those who drop off go silent. When the journey weighs
community ``activity``, some customers (more of those who go further) join the community and
take part now and then until they drift away. Every milestone event is drawn
to match its ``when`` rule; the first event also matches the persona's ``segment`` rule when one
event can do both, else a separate segment event comes first. Optional exact duplicates and late
rows (file order differs from time order). ``leaks`` plant a known leak: one step made worse for
one persona (``journeykit simulate --leak``), so an opportunity ranking can be checked against it.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from journeykit.events.errors import EventsError
from journeykit.events.rulesample import Sample, rule_holds, sample_rule
from journeykit.journey.schema import Journey, JourneyPath

NOISE = ("page_view", "email_open", "email_click", "login", "search", "app_open",
         "notification_open", "help_article_view", "settings_change", "logout")  # fmt: skip
NOISE_WEIGHTS = np.array([30, 8, 3, 12, 8, 10, 4, 2, 1, 4], float)
CHANNELS = ("web", "email", "app", "partner")
DEFAULT_GAP = timedelta(days=3)
VARIANTS = 4  # distinct satisfying events drawn per rule


@dataclass(frozen=True)
class Leak:
    """A planted leak: the odds of reaching ``milestone`` from the step before it are multiplied
    by ``factor`` for the customers of ``persona`` (everyone when None), on every path."""

    milestone: str
    persona: str | None = None
    factor: float = 0.2


@dataclass(frozen=True)
class SimulationOptions:
    customers: int
    seed: int = 0
    days: int = 90
    start: date = date(2024, 1, 1)
    duplicates: float = 0.0  # share of rows written twice
    late: float = 0.0  # share of rows delivered hours late
    leaks: tuple[Leak, ...] = ()


def parse_leak(text: str) -> Leak:
    """``MILESTONE[:PERSONA[:FACTOR]]``, e.g. ``invited_team:team_lead:0.2``."""
    parts = text.split(":")
    try:
        factor = float(parts[2]) if len(parts) > 2 and parts[2] else 0.2
    except ValueError:
        factor = -1.0
    if not parts[0] or len(parts) > 3 or not 0 <= factor < 1:
        raise EventsError(
            "--leak: expected MILESTONE[:PERSONA[:FACTOR]] with FACTOR from 0 up to 1, such as "
            f"invited_team:team_lead:0.2; got {text!r}"
        )
    persona = parts[1] if len(parts) > 1 and parts[1] else None
    return Leak(parts[0], persona, factor)


def _check_leaks(journey: Journey, leaks: tuple[Leak, ...]) -> None:
    from journeykit.errors import did_you_mean

    milestones = [m.id for m in journey.milestones]
    personas = [p.id for p in journey.personas]
    for leak in leaks:
        if leak.milestone not in milestones:
            hint = did_you_mean(leak.milestone, milestones)
            raise EventsError(f"leak: unknown milestone {leak.milestone!r}{hint}")
        if leak.persona is not None and leak.persona not in personas:
            hint = did_you_mean(leak.persona, personas)
            raise EventsError(f"leak: unknown persona {leak.persona!r}{hint}")


class _Catalog:
    """Every distinct (event, properties, value) the log uses, addressed by an integer code."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def add(self, sample: Sample) -> int:
        self.samples.append(sample)
        return len(self.samples) - 1

    def arrays(self) -> tuple[pa.Array, pa.Array, np.ndarray]:
        names = pa.array([s.event for s in self.samples], pa.string())
        props = pa.array([json.dumps(s.properties, sort_keys=True, separators=(",", ":"))
                          for s in self.samples])  # fmt: skip
        values = np.array([np.nan if s.value is None else s.value for s in self.samples])
        return names, props, values


def _variants(rule: Any, key: str, seed: int, catalog: _Catalog) -> np.ndarray:
    codes = [catalog.add(sample_rule(rule, random.Random(f"{seed}:{key}:{k}")))
             for k in range(VARIANTS)]  # fmt: skip
    return np.array(codes)


@dataclass
class _Log:
    customer: list[np.ndarray]
    time: list[np.ndarray]
    code: list[np.ndarray]

    def add(self, customer: np.ndarray, time: np.ndarray, code: np.ndarray) -> None:
        self.customer.append(customer)
        self.time.append(time)
        self.code.append(code)


def simulate(journey: Journey, options: SimulationOptions) -> pa.Table:
    """The event log as an Arrow table in the canonical columns, rows in delivery order."""
    _check_leaks(journey, options.leaks)
    rng = np.random.default_rng(options.seed)
    n = options.customers
    catalog = _Catalog()
    milestone_codes = {
        m.id: _variants(m.when, m.id, options.seed, catalog) for m in journey.milestones if m.when
    }
    persona_codes = [
        _variants(p.segment, f"persona:{p.id}", options.seed, catalog) if p.segment else None
        for p in journey.personas
    ]
    noise_codes = _noise_codes(journey, options.seed, catalog)
    horizon = options.days * 86_400.0
    start = rng.uniform(0, horizon * 0.8, n)
    persona = _weighted(rng, max(len(journey.personas), 1), n)
    paths = journey.paths or (journey.path(),)
    path_of = _weighted(rng, len(paths), n)
    log = _Log([], [], [])
    last = start.copy()
    depth = np.zeros(n, np.int64)
    served = _persona_events(journey, paths, path_of, persona, persona_codes, catalog, start, log)
    for i, path in enumerate(paths):
        members = np.nonzero(path_of == i)[0]
        walk = _Walk(members, start, persona, served, last, depth)
        _walk(journey, path, walk, rng, milestone_codes, log, options.leaks)
    _strays(journey, paths, milestone_codes, rng, start, last, depth, log)
    _noise(rng, noise_codes, start, last, depth, log)
    _community(journey, options.seed, milestone_codes, start, depth, log)
    return _table(journey, catalog, log, options, rng, horizon)


def _weighted(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, k + 1)
    return rng.choice(k, size=n, p=weights / weights.sum())


def _noise_codes(journey: Journey, seed: int, catalog: _Catalog) -> tuple[np.ndarray, np.ndarray]:
    used = {name for m in journey.milestones if m.when for name in m.when.event_names()}
    used |= {name for p in journey.personas if p.segment for name in p.segment.event_names()}
    names = [(i, name) for i, name in enumerate(NOISE) if name not in used]
    if not names:
        raise EventsError("every noise event name is used by a rule; cannot simulate noise")
    codes = [catalog.add(Sample(name, {"channel": CHANNELS[(i + seed) % len(CHANNELS)]}))
             for i, name in names]  # fmt: skip
    weights = NOISE_WEIGHTS[[i for i, _ in names]]
    return np.array(codes), weights / weights.sum()


@dataclass(frozen=True)
class _Walk:
    members: np.ndarray  # the customers on this path
    start: np.ndarray
    persona: np.ndarray
    served: np.ndarray  # the persona's event already is the first milestone's event
    last: np.ndarray  # out: time of the last milestone reached
    depth: np.ndarray  # out: how many steps reached


def _walk(
    journey: Journey,
    path: JourneyPath,
    w: _Walk,
    rng: np.random.Generator,
    codes: dict[str, np.ndarray],
    log: _Log,
    leaks: tuple[Leak, ...] = (),
) -> None:
    """Walk one path for its customers: declining continue odds, lognormal gaps, skips."""
    members, last, depth = w.members, w.last, w.depth
    t = w.start[members].copy()
    alive = np.ones(members.size, bool)
    # Personas differ in drive: each persona's odds are shifted a little, the same every run.
    drive = (w.persona[members] % 3 - 1) * 0.05
    for k, step in enumerate(path.steps):
        milestone = journey.milestone(step.milestone)
        if k:
            odds = np.clip(0.8 - 0.04 * k + drive, 0.3, 0.95) * _leak_factor(
                journey, leaks, step.milestone, w.persona[members]
            )
            alive &= rng.random(members.size) < odds
            expected = step.within or milestone.expected_within or DEFAULT_GAP
            median = expected.total_seconds() / 3
            t = t + rng.lognormal(np.log(median), 0.9, members.size)
        skipped = rng.random(members.size) < (0.35 if step.optional else 0.03 * (k > 0))
        logged = alive & ~skipped & (w.served[members] == 0 if k == 0 else True)
        if step.milestone in codes and logged.any():
            who = members[logged]
            variant = codes[step.milestone][rng.integers(0, VARIANTS, who.size)]
            log.add(who, t[logged], variant)
        last[members[alive]] = t[alive]
        depth[members[alive]] = k + 1


def _leak_factor(
    journey: Journey, leaks: tuple[Leak, ...], milestone: str, persona: np.ndarray
) -> np.ndarray:
    """Per walking customer, the product of the planted leaks' factors at this step."""
    factor = np.ones(persona.size)
    ids = [p.id for p in journey.personas]
    for leak in leaks:
        if leak.milestone != milestone:
            continue
        hit = (
            np.ones(persona.size, bool)
            if leak.persona is None
            else persona == ids.index(leak.persona)
        )
        factor[hit] *= leak.factor
    return factor


def _persona_events(
    journey: Journey,
    paths: tuple[JourneyPath, ...],
    path_of: np.ndarray,
    persona: np.ndarray,
    persona_codes: list[np.ndarray | None],
    catalog: _Catalog,
    start: np.ndarray,
    log: _Log,
) -> np.ndarray:
    """Let the first event say who the customer is, so ``segment`` rules recognise them.

    Returns which customers' segment event also matches their path's first milestone: for
    them it is that milestone's event; for the others it comes a minute before it.
    """
    served = np.zeros(start.size, bool)
    for p, codes in enumerate(persona_codes):
        if codes is None:
            continue
        sample = catalog.samples[int(codes[0])]
        for i, path in enumerate(paths):
            who = np.nonzero((persona == p) & (path_of == i))[0]
            rule = journey.milestone(path.steps[0].milestone).when
            both = rule is not None and rule_holds(rule, sample)
            served[who] = both
            log.add(who, start[who] - (0.0 if both else 60.0), np.full(who.size, codes[0]))
    return served


def _strays(
    journey: Journey,
    paths: tuple[JourneyPath, ...],
    codes: dict[str, np.ndarray],
    rng: np.random.Generator,
    start: np.ndarray,
    last: np.ndarray,
    depth: np.ndarray,
    log: _Log,
) -> None:
    """Backwards repeats (5% of those past step 2) and milestones of no path (8% each)."""
    main = paths[0].milestone_ids
    back = np.nonzero((rng.random(start.size) < 0.05) & (depth >= 2))[0]
    for k in range(min(len(main), int(depth.max(initial=0))) - 1):
        who = back[rng.integers(0, np.maximum(depth[back] - 1, 1)) == k]
        if main[k] in codes and who.size:
            when = last[who] + rng.exponential(3 * 86_400, who.size)
            log.add(who, when, codes[main[k]][rng.integers(0, VARIANTS, who.size)])
    on_paths = {m for p in paths for m in p.milestone_ids}
    for m in journey.milestones:
        if m.id in on_paths or m.id not in codes:
            continue
        who = np.nonzero(rng.random(start.size) < 0.08)[0]
        when = start[who] + rng.random(who.size) * (last[who] - start[who] + 14 * 86_400)
        log.add(who, when, codes[m.id][rng.integers(0, VARIANTS, who.size)])


def _noise(
    rng: np.random.Generator,
    noise: tuple[np.ndarray, np.ndarray],
    start: np.ndarray,
    last: np.ndarray,
    depth: np.ndarray,
    log: _Log,
) -> None:
    """Noise between milestones; a quarter of customers go silent after their last milestone."""
    n = start.size
    silent = rng.random(n) < 0.25
    tail = np.where(silent, 0.0, rng.exponential(10 * 86_400, n))
    count = rng.poisson(2.0 + 1.5 * depth)
    who = np.repeat(np.arange(n), count)
    span = last - start + tail
    when = start[who] + rng.random(who.size) * span[who]
    codes, weights = noise
    log.add(who, when, codes[rng.choice(codes.size, who.size, p=weights)])


def _community(
    journey: Journey,
    seed: int,
    codes: dict[str, np.ndarray],
    start: np.ndarray,
    depth: np.ndarray,
    log: _Log,
) -> None:
    """Community activity: joins (likelier for those who went further), then events at a
    personal rate until the member drifts away; heavier-weighted activities are rarer.

    A separate random stream, so journeys without community activity simulate as before.
    """
    activity = journey.community.activity if journey.community else {}
    names = [m for m in activity if m in codes]
    if not names:
        return
    rng = np.random.default_rng([seed, 9])
    n = start.size
    reach = depth / max(int(depth.max(initial=0)), 1)
    member = np.flatnonzero(rng.random(n) < 0.1 + 0.5 * reach)
    joined = start[member] + rng.exponential(7 * 86_400, member.size)
    drift = joined + rng.exponential(45 * 86_400, member.size)
    weekly = rng.gamma(1.5, 1.0 / 1.5, member.size)
    count = 1 + rng.poisson(weekly * (drift - joined) / (7 * 86_400))
    who = np.repeat(np.arange(member.size), count)
    first = np.r_[0, np.cumsum(count)[:-1]]
    when = joined[who] + rng.random(who.size) * (drift - joined)[who]
    when[first] = joined
    odds = np.array([1.0 / activity[m] for m in names])
    pick = rng.choice(len(names), who.size, p=odds / odds.sum())
    for k, name in enumerate(names):
        rows = pick == k
        variant = codes[name][rng.integers(0, VARIANTS, int(rows.sum()))]
        log.add(member[who[rows]], when[rows], variant)


def _table(
    journey: Journey,
    catalog: _Catalog,
    log: _Log,
    options: SimulationOptions,
    rng: np.random.Generator,
    horizon: float,
) -> pa.Table:
    customer = np.concatenate(log.customer)
    time = np.floor(np.concatenate(log.time)).astype(np.int64)
    code = np.concatenate(log.code)
    seen = time < horizon  # right-censoring: the log ends at --days
    customer, time, code = customer[seen], time[seen], code[seen]
    if options.duplicates:
        again = np.nonzero(rng.random(customer.size) < options.duplicates)[0]
        customer, time, code = (np.concatenate([a, a[again]]) for a in (customer, time, code))
    delay = rng.exponential(20.0, customer.size)
    if options.late:
        late = rng.random(customer.size) < options.late
        delay[late] = rng.exponential(6 * 3600, int(late.sum()))
    order = np.argsort(time + delay, kind="stable")
    customer, time, code = customer[order], time[order], code[order]
    names, props, fixed = catalog.arrays()
    values = _values(journey, catalog, code, fixed, rng)
    ids = pa.array(np.char.add("c", np.arange(options.customers).astype(str)).astype(object))
    origin = np.datetime64(datetime.combine(options.start, datetime.min.time()), "s")
    codes = pa.array(code)
    return pa.table({
        "customer_id": ids.take(pa.array(customer)),
        "event": names.take(codes),
        "timestamp": pa.array(origin + time.astype("timedelta64[s]"), pa.timestamp("s")),
        "value": pa.array(values, pa.float64(), from_pandas=True),
        "properties": props.take(codes),
    })  # fmt: skip


def _values(
    journey: Journey,
    catalog: _Catalog,
    code: np.ndarray,
    fixed: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """The rule's value where it sets one; an amount for purchases; else none."""
    purchase_events = {n for m in journey.milestones if m.when and m.is_purchase
                       for n in m.when.event_names()}  # fmt: skip
    is_purchase = np.array(
        [s.event in purchase_events and s.value is None for s in catalog.samples]
    )
    values: np.ndarray = fixed[code].copy()
    buy = is_purchase[code]
    values[buy] = np.round(rng.lognormal(3.5, 0.6, int(buy.sum())), 2)
    result: np.ndarray = values
    return result


def write_table(table: pa.Table, path: Path) -> None:
    """Write by extension: .csv, .csv.gz, .parquet or .jsonl."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        pq.write_table(table, path, compression="zstd", row_group_size=1_000_000)
    elif name.endswith((".csv", ".csv.gz")):
        import pyarrow.csv as pacsv

        compression = "gzip" if name.endswith(".gz") else None
        with (
            pa.CompressedOutputStream(path, "gzip")
            if compression
            else pa.OSFile(str(path), "wb") as sink
        ):
            pacsv.write_csv(table, sink)
    elif name.endswith((".jsonl", ".ndjson")):
        _write_jsonl(table, path)
    else:
        raise EventsError(f"{path}: unknown output format; use .csv, .csv.gz, .parquet or .jsonl")


def _write_jsonl(table: pa.Table, path: Path) -> None:
    import pyarrow.compute as pc

    def quoted(col: pa.ChunkedArray) -> pa.ChunkedArray:
        escaped = pc.replace_substring(pc.replace_substring(col, "\\", "\\\\"), '"', '\\"')
        return pc.binary_join_element_wise('"', escaped, '"', "")

    stamp = pc.strftime(table["timestamp"], format="%Y-%m-%dT%H:%M:%S")
    value = pc.fill_null(pc.cast(table["value"], pa.string()), "null")
    lines = pc.binary_join_element_wise(
        '{"customer_id":', quoted(table["customer_id"]), ',"event":', quoted(table["event"]),
        ',"timestamp":"', stamp, '","value":', value, ',"properties":', table["properties"],
        "}\n", "",
    )  # fmt: skip
    with path.open("wb") as fh:
        for chunk in lines.chunks:
            fh.write("".join(chunk.to_pylist()).encode())


def simulate_to_file(journey: Journey, options: SimulationOptions, path: Path) -> int:
    table = simulate(journey, options)
    write_table(table, path)
    return int(table.num_rows)


__all__ = [
    "Leak",
    "SimulationOptions",
    "parse_leak",
    "rule_holds",
    "simulate",
    "simulate_to_file",
    "write_table",
]
