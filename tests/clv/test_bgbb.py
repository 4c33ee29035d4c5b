"""BG/BB on the donations data against Fader, Hardie & Shang (2010) and Hardie's spreadsheet,
as lifetimes asserts them (tests/test_estimation.py::TestBetaGeoBetaBinomFitter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from journeykit.clv import RFM, BetaGeoBetaBinom, RFMError

DATA = Path(__file__).resolve().parents[1] / "data" / "donations" / "donations.csv"


@pytest.fixture(scope="module")
def donations() -> tuple[RFM, np.ndarray]:
    df = pd.read_csv(DATA)
    rfm = RFM(frequency=df.frequency.to_numpy(), recency=df.recency.to_numpy(), T=df.n.to_numpy())
    return rfm, df.n_custs.to_numpy()


@pytest.fixture(scope="module")
def fitted(donations: tuple[RFM, np.ndarray]) -> BetaGeoBetaBinom:
    rfm, counts = donations
    return BetaGeoBetaBinom().fit(rfm, weights=counts)


def test_parameters_and_likelihood_match_the_paper(fitted: BetaGeoBetaBinom) -> None:
    """FHS (2010) Table 2: α=1.204, β=0.750, γ=0.657, δ=2.783; LL = −33,225.6."""
    np.testing.assert_allclose(np.asarray(fitted.params_), [1.204, 0.750, 0.657, 2.783], atol=5e-4)
    assert fitted.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert fitted.converged_ and fitted.customers_ == 11104


def test_probability_alive_matches_table_6(fitted: BetaGeoBetaBinom) -> None:
    """P(alive in 2002): 0.11 (no repeat), 0.59 (2 repeats, last 1999), 0.93 (6 of 6)."""
    got = fitted.probability_alive_at([0, 2, 6], [0, 4, 6], [6, 6, 6])
    np.testing.assert_allclose(got, [0.11, 0.59, 0.93], atol=5e-3)


def test_conditional_expectation_total_matches_the_spreadsheet(
    fitted: BetaGeoBetaBinom, donations: tuple[RFM, np.ndarray]
) -> None:
    """Hardie's BG/BB workbook (note 010), sheet "Conditional Expectations (II)": 12,884.2
    transactions by the cohort in 2002-2006."""
    rfm, counts = donations
    per_pattern = fitted.expected_purchases_at(rfm.frequency, rfm.recency, rfm.T, horizon=5)
    assert float(per_pattern @ counts) == pytest.approx(12884.2, abs=0.5)


def test_new_customer_distribution_matches_the_in_sample_fit(fitted: BetaGeoBetaBinom) -> None:
    """Workbook "In-Sample Fit": 3,454.9 donors with no repeat and 1,253.1 with 6 of 6."""
    assert 11104 * fitted.probability_of_purchases_new(0, 6) == pytest.approx(3454.9, abs=0.5)
    assert 11104 * fitted.probability_of_purchases_new(6, 6) == pytest.approx(1253.1, abs=0.5)
    pmf = np.array([fitted.probability_of_purchases_new(x, 6) for x in range(7)])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    assert float(np.arange(7) @ pmf) == pytest.approx(fitted.expected_purchases_new(6), rel=1e-10)


def test_weights_equal_one_row_per_donor(donations: tuple[RFM, np.ndarray]) -> None:
    rfm, counts = donations
    rows = np.repeat(np.arange(len(rfm)), counts)
    exploded = BetaGeoBetaBinom().fit(rfm.select(rows))
    weighted = BetaGeoBetaBinom().fit(rfm, weights=counts)
    np.testing.assert_allclose(
        np.asarray(exploded.params_), np.asarray(weighted.params_), rtol=1e-6
    )


def test_conditional_expectation_by_simulation(fitted: BetaGeoBetaBinom) -> None:
    """Draw (p, θ) from the prior, simulate 6 opportunities, keep those with the history
    x=3, t_x=5, and simulate 4 more."""
    rng = np.random.default_rng(8)
    a, b, g, d = fitted.params_
    size = 1_500_000
    p, theta = rng.beta(a, b, size), rng.beta(g, d, size)
    alive = np.ones(size, dtype=bool)
    buys = np.zeros((size, 10), dtype=bool)
    for t in range(10):
        alive &= rng.random(size) > theta
        buys[:, t] = alive & (rng.random(size) < p)
    x = buys[:, :6].sum(axis=1)
    last = np.where(buys[:, :6].any(axis=1), 6 - np.argmax(buys[:, 5::-1], axis=1), 0)
    keep = (x == 3) & (last == 5)
    simulated = buys[keep, 6:].sum(axis=1).mean()
    assert fitted.expected_purchases_at([3], [5], [6], horizon=4)[0] == pytest.approx(
        simulated, rel=0.03
    )


def test_discrete_data_is_checked() -> None:
    with pytest.raises(RFMError, match="row 0, column 'recency'"):
        BetaGeoBetaBinom().fit(RFM(frequency=[1], recency=[1.5], T=[3.0]))
    with pytest.raises(RFMError, match="column 'frequency'"):
        BetaGeoBetaBinom().fit(RFM(frequency=[3], recency=[2.0], T=[3.0]))


def test_cli_fits_and_predicts_bgbb(donations: tuple[RFM, np.ndarray], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from journeykit.cli import cli

    rfm, counts = donations
    summary = tmp_path / "donors.csv"
    rfm.select(np.repeat(np.arange(len(rfm)), counts)).to_pandas().to_csv(summary, index=False)
    runner = CliRunner()
    fit = runner.invoke(
        cli, ["clv", "fit", "--model", "bgbb", "--summary", str(summary), "--format", "json"]
    )
    assert fit.exit_code == 0, fit.output
    assert '"alpha": 1.20' in fit.output
    args = ["clv", "predict", "--model", "bgbb", "--summary", str(summary), "--horizon", "5"]
    out = runner.invoke(cli, [*args, "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0] == "frequency,recency,T,expected_purchases,probability_alive"
