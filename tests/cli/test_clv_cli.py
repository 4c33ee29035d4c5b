"""`journeykit clv` as a user runs it: published CDNOW fits in JSON, both file conventions,
summary files' errors, and summary-from-events equal to hand-computed values."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from journeykit.cli import cli
from tests.builders import events_for, to_arrow
from tests.clv.test_journey import JOURNEY, LOG

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow"
PLAIN = CDNOW / "cdnow_customers_summary.csv"  # ID, frequency, recency, T
WITH_SPEND = CDNOW / "cdnow_customers_summary_with_transactions.csv"  # ID, x, t_x, T, zbar

PUBLISHED = {
    "bgnbd": ({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, -9582.4),
    "mbgnbd": ({"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}, None),
    "pnbd": ({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, -9595.0),
    "gg": ({"p": 6.25, "q": 3.74, "v": 15.44}, None),
}


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    return result.stderr


def three_digits(got: float, published: float) -> bool:
    """Equal to 3 significant digits: within half a unit of the third digit."""
    half_unit = 0.5 * 10 ** (math.floor(math.log10(abs(published))) - 2)
    return abs(got - published) <= half_unit * (1 + 1e-9)


@pytest.mark.parametrize("model", list(PUBLISHED))
def test_fit_reproduces_published_cdnow_parameters(model: str) -> None:
    params, log_likelihood = PUBLISHED[model]
    out = json.loads(
        run("clv", "fit", "--model", model, "--summary", WITH_SPEND, "--format", "json")
    )
    assert {
        "model",
        "params",
        "log_likelihood",
        "customers",
        "standard_errors",
        "diagnosis",
    } <= set(out)
    assert list(out["params"]) == list(params)  # names as published
    for name, value in params.items():
        assert three_digits(out["params"][name], value), (name, out["params"][name], value)
    assert out["customers"] == (946 if model == "gg" else 2357)
    assert out["diagnosis"]["converged"] is True
    assert all(se > 0 for se in out["standard_errors"].values())
    if log_likelihood is not None:
        assert round(out["log_likelihood"], 1) == log_likelihood


def test_both_column_conventions_give_the_same_fit() -> None:
    a = json.loads(run("clv", "fit", "--model", "bgnbd", "--summary", PLAIN, "--format", "json"))
    b = json.loads(
        run("clv", "fit", "--model", "bgnbd", "--summary", WITH_SPEND, "--format", "json")
    )
    assert a["params"] == b["params"] and a["log_likelihood"] == b["log_likelihood"]


def test_fit_table_and_csv() -> None:
    table = run("clv", "fit", "--model", "bgnbd", "--summary", PLAIN)
    assert "log-likelihood -9,582.43" in table and "converged" in table
    rows = list(
        csv.DictReader(
            io.StringIO(
                run("clv", "fit", "--model", "bgnbd", "--summary", PLAIN, "--format", "csv")
            )
        )
    )
    assert [r["param"] for r in rows] == ["r", "alpha", "a", "b"]


def test_sbg_fits_the_published_renewals(tmp_path: Path) -> None:
    # Fader & Hardie (2007), "How to Project Customer Retention", Table 1 high end: 0.668, 3.806
    renewals = tmp_path / "renewals.csv"
    renewals.write_text("alive\n1000\n869\n743\n653\n593\n551\n517\n491\n")
    out = json.loads(run("clv", "fit", "--model", "sbg", "--summary", renewals, "--format", "json"))
    assert out["model"] == "ShiftedBetaGeometric"
    assert three_digits(out["params"]["alpha"], 0.668) and three_digits(
        out["params"]["beta"], 3.806
    )
    pred = json.loads(
        run(
            "clv",
            "predict",
            "--model",
            "sbg",
            "--summary",
            renewals,
            "--horizon",
            "3",
            "--format",
            "json",
        )
    )
    assert [r["period"] for r in pred["rows"]] == [1, 2, 3]
    assert pred["rows"][0]["survival"] == pytest.approx(3.806 / (0.668 + 3.806), rel=1e-3)


def test_predict_writes_one_row_per_customer_and_reuses_a_saved_fit(tmp_path: Path) -> None:
    model = tmp_path / "bg.json"
    run("clv", "fit", "--model", "bgnbd", "--summary", WITH_SPEND, "-o", model)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run("clv", "predict", "--model", "bgnbd", "--summary", WITH_SPEND, "--horizon", "12", "-o", a)
    run(
        "clv",
        "predict",
        "--model",
        "bgnbd",
        "--summary",
        WITH_SPEND,
        "--params",
        model,
        "--horizon",
        "12",
        "-o",
        b,
    )
    rows = list(csv.DictReader(a.open()))
    assert len(rows) == 2357
    assert list(rows[0]) == ["customer_id", "frequency", "recency", "T", "monetary_value",
                             "expected_purchases", "probability_alive", "expected_spend", "clv"]  # fmt: skip
    again = list(csv.DictReader(b.open()))
    for x, y in zip(rows[:50], again[:50], strict=True):
        assert float(x["expected_purchases"]) == pytest.approx(
            float(y["expected_purchases"]), rel=1e-9
        )
    # a customer who never came back is worth less than one who did, recently
    by_id = {r["customer_id"]: r for r in rows}
    assert float(by_id["1"]["clv"]) > float(by_id["2"]["clv"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "ID,x,t_x,T\n1,2,3,30\n2,-1,0,30\n",
            "summary.csv, line 3, column 'x': -1 is not a non-negative whole number",
        ),
        (
            "frequency,recency,T\n1,2,30\n2,31,30\n",
            "summary.csv, line 3, column 'recency': 31 is greater than T",
        ),
        ("x,t_x,T\n1,two,30\n", "summary.csv, line 2, column 't_x': 'two' is not a number"),
        (
            "customer_id,frequency,T\n1,2,30\n",
            "summary.csv, column 'recency': missing column 'recency' or 't_x'",
        ),
    ],
)
def test_bad_summary_files_name_file_line_and_column(
    tmp_path: Path, text: str, message: str
) -> None:
    bad = tmp_path / "summary.csv"
    bad.write_text(text)
    assert f"Error: {message}" in fails("clv", "fit", "--model", "bgnbd", "--summary", bad)


def test_bad_renewals_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "renewals.csv"
    bad.write_text("alive\n100\n60\n70\n")
    assert (
        "renewals.csv, line 4, column 'alive': active counts must be >= 0 and never grow"
        in fails("clv", "fit", "--model", "sbg", "--summary", bad)
    )


def test_gamma_gamma_needs_a_monetary_column() -> None:
    assert "column 'monetary_value': the spend model needs monetary values" in fails(
        "clv", "fit", "--model", "gg", "--summary", PLAIN
    )


@pytest.fixture
def journey_files(tmp_path: Path) -> tuple[Path, Path]:
    journey = tmp_path / "journey.yaml"
    journey.write_text(JOURNEY, encoding="utf-8")
    events = tmp_path / "events.parquet"
    pq.write_table(to_arrow(events_for(LOG)), events)
    return journey, events


def test_summary_from_events_through_the_cli(
    journey_files: tuple[Path, Path], tmp_path: Path
) -> None:
    journey, events = journey_files
    out = tmp_path / "summary.csv"
    run("clv", "summary", journey, "--events", events, "--calibration-end", "2024-01-29", "-o", out)
    rows = {r["customer_id"]: r for r in csv.DictReader(out.open())}
    assert list(rows) == ["ana", "ben", "cy", "eve"]
    ana = rows["ana"]
    assert (ana["frequency"], ana["monetary_value"], ana["frequency_holdout"]) == ("2", "25.0", "1")
    assert float(ana["recency"]) == pytest.approx(2.0) and float(ana["T"]) == pytest.approx(26 / 7)
    assert (ana["persona"], ana["path"], ana["cohort"]) == (
        "pro",
        "signed_up > trial > bought",
        "2024-01",
    )
    # the written summary is a valid summary file for fit
    fitted = json.loads(
        run(
            "clv",
            "fit",
            "--model",
            "gg",
            "--summary",
            out,
            "--format",
            "json",
            "--penalizer",
            "0.1",
        )
    )
    assert fitted["customers"] == 2
    days = json.loads(
        run("clv", "summary", journey, "--events", events, "--unit", "days", "--format", "json")
    )
    assert days["unit"] == "days" and days["customers"] == 5
    assert [r["T"] for r in days["summary"]] == [40.0, 35.0, 15.0, 2.0, 28.0]


def test_simple_by_path_json_and_table(journey_files: tuple[Path, Path]) -> None:
    journey, events = journey_files
    args = ("clv", "simple", journey, "--events", events, "--calibration-end", "2024-01-29")
    out = json.loads(run(*args, "--by", "path", "--format", "json"))
    assert out["by"] == "path"
    groups = {g["group"]: g for g in out["groups"]}
    assert set(groups) == {"signed_up > trial > bought", "signed_up > bought", "bought"}
    assert groups["signed_up > bought"]["customers"] == 2
    assert groups["signed_up > bought"]["average_purchase_value"]["value"] == pytest.approx(70 / 3)
    table = run(*args)
    assert "145.00 revenue / 7 purchases" in table


def test_value_by_persona(journey_files: tuple[Path, Path]) -> None:
    journey, events = journey_files
    out = json.loads(
        run(
            "clv",
            "value",
            journey,
            "--events",
            events,
            "--unit",
            "days",
            "--by",
            "persona",
            "--penalizer",
            "0.1",
            "--format",
            "json",
        )
    )
    assert list(out["groups"]) == ["persona"]
    assert out["best"]["persona"] == out["groups"]["persona"][0]["group"]
    assert sum(g["customers"] for g in out["groups"]["persona"]) == out["overall"]["customers"] == 5


def test_summary_needs_exactly_one_source(journey_files: tuple[Path, Path]) -> None:
    journey, _ = journey_files
    assert "give exactly one of --events FILE" in fails("clv", "summary", journey)


def test_demo_shows_clv_by_route_and_persona(tmp_path: Path) -> None:
    out = run("demo", "--dir", tmp_path / "demo")
    assert "customer lifetime value (journeykit clv ...)" in out
    assert "simple formula: " in out and "purchases a week while a customer" in out
    # side by side at the same horizon, each saying what it is
    assert "simple formula over 12 months (1% a month): " in out
    assert "the figure to compare with the model's" in out
    assert "by route to the purchase:" in out
    assert "model: expected 12-month CLV of today's customers (BG/NBD + Gamma-Gamma" in out
    assert "persona team_lead" in out and "persona solo_maker" in out
