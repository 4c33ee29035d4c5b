"""Values in several currencies, converted with the user's rates file, in every analysis."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from journeykit.engine.workspace import import_files, load_rates
from journeykit.events.errors import EventFileError
from journeykit.events.rates import RatesError
from journeykit.workspace import Workspace

from .conftest import db_rows, snapshot

RATES = "date,currency,rate\n2024-01-01,USD,0.90\n2024-02-01,USD,0.95\n2024-01-01,JPY,0.0062\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_values_are_in_the_base_currency_at_the_rate_of_their_day(
    ws: Workspace, tmp_path: Path
) -> None:
    events = write(tmp_path / "pay.csv", "customer_id,event,timestamp,value,currency\n"
                   "a,paid,2024-01-15,100,usd\n"      # 100 x 0.90 = 90
                   "a,paid,2024-02-01,100,USD\n"      # from Feb 1: 100 x 0.95 = 95
                   "b,paid,2024-03-03,5000,JPY\n"     # 5000 x 0.0062 = 31
                   "b,paid,2024-03-04,20,EUR\n"       # the base: as given
                   "c,signed_up,2024-01-02,,\n")  # fmt: skip
    import_files(ws, [events])
    assert load_rates(ws, write(tmp_path / "rates.csv", RATES), base="eur") == 3
    got = db_rows(ws, "SELECT customer_id, value, source_value FROM events ORDER BY timestamp")
    assert [(c, None if v is None else round(v, 6), s) for c, v, s in got] == [
        ("c", None, None), ("a", 90.0, 100.0), ("a", 95.0, 100.0), ("b", 31.0, 5000.0),
        ("b", 20.0, 20.0),
    ]  # fmt: skip


def test_an_event_without_a_rate_refuses_the_rates_and_later_imports(
    ws: Workspace, tmp_path: Path
) -> None:
    import_files(ws, [write(tmp_path / "a.csv", "customer_id,event,timestamp,value,currency\n"
                            "a,paid,2024-01-15,100,USD\n")])  # fmt: skip
    before = snapshot(ws, ("events", "rates"))
    late = "date,currency,rate\n2024-02-01,USD,0.95\n"  # nothing for January
    with pytest.raises(RatesError, match=r"no rate for USD from 2024-01-15 \(1 events\)"):
        load_rates(ws, write(tmp_path / "late.csv", late), base="EUR")
    assert snapshot(ws, ("events", "rates")) == before
    load_rates(ws, write(tmp_path / "rates.csv", RATES), base="EUR")
    gbp = write(
        tmp_path / "b.csv", "customer_id,event,timestamp,value,currency\nb,paid,2024-03-01,5,GBP\n"
    )
    before = snapshot(ws, ("events", "imports"))
    with pytest.raises(RatesError, match=r"no rate for GBP from 2024-03-01"):
        import_files(ws, [gbp])
    assert snapshot(ws, ("events", "imports")) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,currency,rate\n", "expected the columns date,currency,rate"),
        ("date,currency,rate\n2024-13-01,USD,1\n", ":2: date: expected YYYY-MM-DD"),
        ("date,currency,rate\n2024-01-01,US,1\n", ":2: currency: expected a 3-letter code"),
        ("date,currency,rate\n2024-01-01,USD,-1\n", ":2: rate: expected a positive number"),
    ],
)
def test_a_bad_rates_file_names_the_line(
    ws: Workspace, tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(EventFileError, match=message.replace("(", r"\(")):
        load_rates(ws, write(tmp_path / "r.csv", text), base="EUR")


def test_converted_values_agree_with_an_oracle(ws: Workspace, tmp_path: Path) -> None:
    rng = random.Random(5)
    days = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(10)]
    table = {(c, d): round(rng.uniform(0.5, 2), 4) for c in ("USD", "GBP") for d in days}
    write(tmp_path / "rates.csv", "date,currency,rate\n"
          + "".join(f"{d},{c},{r}\n" for (c, d), r in table.items()))  # fmt: skip
    rows = []
    for i in range(300):
        when = datetime(2024, 1, 1) + timedelta(hours=rng.randrange(24 * 70))
        rows.append(
            (f"c{i}", when, round(rng.uniform(1, 100), 2), rng.choice(["USD", "GBP", "EUR"]))
        )
    import_files(ws, [write(tmp_path / "e.csv", "customer_id,event,timestamp,value,currency\n"
                            + "".join(f"{c},paid,{t},{v},{k}\n" for c, t, v, k in rows))])  # fmt: skip
    load_rates(ws, tmp_path / "rates.csv", base="EUR")

    def oracle(when: datetime, value: float, cur: str) -> float:
        if cur == "EUR":
            return value
        day = max(d for d in days if d <= when.date())
        return value * table[(cur, day)]

    expected = sorted((c, round(oracle(t, v, k), 6)) for c, t, v, k in rows)
    got = sorted((c, round(v, 6)) for c, v in db_rows(ws, "SELECT customer_id, value FROM events"))
    assert got == expected
