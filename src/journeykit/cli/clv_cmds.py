"""``journeykit clv``: summary, fit, predict, simple, value. Thin adapters over journeykit.clv."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from journeykit.analytics.results import _Tabular
from journeykit.cli.analytics_cmds import FilePath, Measure, emit, journey_source_options
from journeykit.cli.output import err_console, out_console

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd
    from rich.console import Console

    from journeykit.clv import RFM, FitResult, SimpleCLV, SimpleCLVByGroup
    from journeykit.clv.journey import JourneyCLV, JourneyCustomers
    from journeykit.journey import Journey

from journeykit.clv.journey import GROUPINGS, UNITS
from journeykit.clv.models import MODEL_HELP, MODELS, TRANSACTION_MODELS

_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
_UNIT = click.option(
    "--unit",
    type=click.Choice(["days", "weeks"]),
    default="weeks",
    show_default=True,
    help="Time unit of recency and T.",
)
_CALIBRATION = click.option(
    "--calibration-end",
    default=None,
    help="Last day of calibration (inclusive, e.g. 2024-03-31); later purchases are the holdout.",
)
_PENALIZER = click.option(
    "--penalizer", type=float, default=0.0, show_default=True, help="L2 penalty on log-parameters."
)
_HORIZON = click.option(
    "--horizon",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Months ahead (sbg, bgbb: periods ahead).",
)
_DISCOUNT = click.option(
    "--discount-rate", type=float, default=0.01, show_default=True, help="Per month."
)
_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the table as CSV to this file.",
)


@click.group()
def clv() -> None:
    """Customer lifetime value: summaries from the journey, models, predictions, value by group."""


def _customers(
    m: Measure, calibration_end: str | None, unit: str, top_paths: int = 10
) -> JourneyCustomers:
    from journeykit.clv.journey import journey_customers

    return journey_customers(
        m.events,
        m.journey,
        calibration_end=calibration_end,
        now=m.now,
        unit=unit,  # type: ignore[arg-type]
        top_paths=top_paths,
    )


@clv.command()
@journey_source_options
@_CALIBRATION
@_UNIT
@click.option("--top-paths", type=int, default=10, show_default=True, help="Routes kept by name.")
@_OUTPUT
def summary(
    m: Measure, calibration_end: str | None, unit: str, top_paths: int, output: Path | None
) -> None:
    """Per customer frequency, recency, T and monetary value from the purchase milestones."""
    data = _customers(m, calibration_end, unit, top_paths)
    _describe(data)
    if output is not None:
        data.to_pandas().to_csv(output, index=False)
        err_console.print(f"wrote {len(data):,} customers to {output}", highlight=False)
        return
    emit(data, m.fmt, lambda: _head_table(data.to_pandas(), f"summary ({data.unit})"))


def _describe(data: JourneyCustomers) -> None:
    s = data.summary
    held = (
        f"; holdout {data.holdout.duration_holdout:g} {data.unit} after "
        f"{data.calibration_end.date()}"
        if data.holdout is not None
        else ""
    )
    err_console.print(
        f"{len(s):,} customers bought ({', '.join(data.purchase_milestones)}) by "
        f"{data.calibration_end.date()}; {int((s.frequency > 0).sum()):,} bought again{held}",
        highlight=False,
        markup=False,
    )


def _head_table(df: pd.DataFrame, title: str, limit: int = 30) -> Table:
    grid = Table(title=title, show_edge=False)
    for name in df.columns:
        grid.add_column(str(name), justify="left" if df[name].dtype == object else "right")
    for row in df.head(limit).itertuples(index=False):
        grid.add_row(*(f"{v:,.3f}" if isinstance(v, float) else str(v) for v in row))
    if len(df) > limit:
        err_console.print(
            f"showing {limit} of {len(df):,} rows; use -o FILE or --format csv for all",
            highlight=False,
        )
    return grid


def _read(path: Path, unit: str) -> RFM:
    from journeykit.clv import read_summary

    return read_summary(path, time_unit=UNITS[unit])


def _fit(model: str, summary_file: Path, unit: str, penalizer: float) -> Any:
    from journeykit.clv import read_renewals

    data = read_renewals(summary_file) if model == "sbg" else _read(summary_file, unit)
    fitter: Any = MODELS[model](penalizer=penalizer)  # each model's fit takes its own data
    return fitter.fit(data)


_MODEL = click.option(
    "--model", type=click.Choice(tuple(MODELS)), required=True, help=f"{MODEL_HELP}."
)
_SUMMARY = click.option(
    "--summary",
    "summary_file",
    type=FilePath,
    required=True,
    help="frequency,recency,T[,monetary_value] or x,t_x,T[,zbar] (sbg: alive, or periods,churned).",
)


@clv.command()
@_MODEL
@_SUMMARY
@_UNIT
@_PENALIZER
@_FORMAT
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Save the fitted model as JSON (for predict --params).",
)
def fit(
    model: str, summary_file: Path, unit: str, penalizer: float, fmt: str, output: Path | None
) -> None:
    """Fit a model by maximum likelihood: parameters, standard errors, convergence."""
    fitted = _fit(model, summary_file, unit, penalizer)
    result = fitted.result()
    _report_convergence(result)
    if output is not None:
        fitted.to_json(output)
        err_console.print(f"saved {result.model} to {output}", highlight=False)
    emit(result, fmt, lambda: _fit_table(result))


def _report_convergence(result: FitResult) -> None:
    d = result.diagnosis
    if d is not None and not d.converged:
        bound = f"; at bound: {', '.join(d.at_bound)}" if d.at_bound else ""
        err_console.print(
            f"[yellow]warning:[/yellow] {result.model} did not converge (gradient norm "
            f"{d.gradient_norm:.2g}, Hessian positive definite: {d.hessian_positive_definite}"
            f"{bound}); try --penalizer 0.001",
            highlight=False,
        )


def _fit_table(result: FitResult) -> Table:
    d = result.diagnosis
    state = "converged" if d is not None and d.converged else "NOT converged"
    grid = Table(
        title=f"{result.model}: log-likelihood {result.log_likelihood:,.2f}, "
        f"{result.customers:,} customers, {state}",
        show_edge=False,
    )
    for name in ("param", "estimate", "std. error"):
        grid.add_column(name, justify="left" if name == "param" else "right")
    for row in result.rows():
        grid.add_row(row["param"], f"{row['estimate']:.4g}", f"{row['standard_error']:.3g}")
    return grid


class _Frame(_Tabular):
    """A pandas frame in the result shape ``emit`` reads."""

    def __init__(self, df: pd.DataFrame, info: dict[str, Any]) -> None:
        self.df, self.info = df, info

    def rows(self) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in r.items()} for r in self.df.to_dict("records")]

    def to_dict(self) -> dict[str, Any]:
        return self.info | {"rows": self.rows()}


@clv.command()
@_MODEL
@_SUMMARY
@_UNIT
@_PENALIZER
@_HORIZON
@_DISCOUNT
@click.option(
    "--params",
    "params_file",
    type=FilePath,
    default=None,
    help="A model saved by 'clv fit -o' instead of fitting again.",
)
@_FORMAT
@_OUTPUT
def predict(
    model: str,
    summary_file: Path,
    unit: str,
    penalizer: float,
    horizon: int,
    discount_rate: float,
    params_file: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Per customer: expected purchases, P(alive) and discounted CLV over the horizon.

    With monetary values, Gamma-Gamma is fitted too and CLV is discounted monthly (as lifetimes'
    customer_lifetime_value). sbg predicts survival per period for a new cohort instead.
    """
    fitted = (
        _load(model, params_file) if params_file else _fit(model, summary_file, unit, penalizer)
    )
    if model == "sbg":
        result = _predict_renewals(fitted, horizon, discount_rate)
    elif model == "bgbb":
        result = _predict_discrete(fitted, _read(summary_file, unit), horizon)
    elif model == "gg":
        result = _predict_spend(fitted, _read(summary_file, unit))
    else:
        result = _predict_customers(
            fitted, _read(summary_file, unit), unit, horizon, discount_rate, penalizer
        )
    if output is not None:
        result.df.to_csv(output, index=False)
        err_console.print(f"wrote {len(result.df):,} rows to {output}", highlight=False)
        return
    emit(result, fmt, lambda: _head_table(result.df, f"{result.info['model']} predictions"))


def _load(model: str, params_file: Path) -> Any:
    return MODELS[model].from_json(params_file)


def _predict_customers(
    fitted: Any, rfm: RFM, unit: str, horizon: int, discount_rate: float, penalizer: float
) -> _Frame:
    from journeykit.clv.value import customer_value

    df = rfm.to_pandas()
    predicted = customer_value(
        fitted, rfm, horizon=horizon, discount_rate=discount_rate, penalizer=penalizer,
        time_unit=UNITS[unit],
    )  # fmt: skip
    df["expected_purchases"] = predicted.expected_purchases
    df["probability_alive"] = predicted.probability_alive
    info: dict[str, Any] = {"model": fitted.name, "horizon_months": horizon, "unit": unit}
    if predicted.value is not None and predicted.spend_model is not None:
        df["expected_spend"] = predicted.value.expected_value
        df["clv"] = predicted.value.clv
        spend = predicted.spend_model.result().to_dict()
        info |= {"discount_rate": discount_rate, "spend_model": spend}
    info["params"] = fitted.result().params
    return _Frame(df, info)


def _predict_discrete(fitted: Any, rfm: RFM, horizon: int) -> _Frame:
    df = rfm.to_pandas()
    df["expected_purchases"] = fitted.expected_purchases_at(
        rfm.frequency, rfm.recency, rfm.T, horizon=horizon
    )
    df["probability_alive"] = fitted.probability_alive_at(rfm.frequency, rfm.recency, rfm.T)
    info = {"model": fitted.name, "horizon_periods": horizon, "params": fitted.result().params}
    return _Frame(df, info)


def _predict_spend(fitted: Any, rfm: RFM) -> _Frame:
    from journeykit.clv import RFMError

    if rfm.monetary_value is None:
        raise RFMError("the spend model needs monetary values", column="monetary_value")
    df = rfm.to_pandas()
    df["expected_spend"] = fitted.expected_average_value(rfm.frequency, rfm.monetary_value)
    info = {"model": fitted.name, "params": fitted.result().params}
    return _Frame(df, info | {"population_mean": fitted.population_mean_value()})


def _predict_renewals(fitted: Any, horizon: int, discount_rate: float) -> _Frame:
    import numpy as np
    import pandas as pd

    t = np.arange(1, horizon + 1, dtype=np.float64)
    df = pd.DataFrame(
        {
            "period": t.astype(int),
            "survival": fitted.survival(t),
            "retention_rate": fitted.retention_rate(t),
            "churn_probability": fitted.churn_probability(t),
        }
    )
    info = {
        "model": fitted.name,
        "params": fitted.result().params,
        "discount_rate": discount_rate,
        "discounted_expected_lifetime": fitted.discounted_expected_lifetime(discount_rate),
    }
    return _Frame(df, info)


_BY = click.option(
    "--by",
    type=click.Choice(["persona", "path", "cohort"]),
    default=None,
    help="Groups: persona, path variant (route to the first purchase) or entry month.",
)


@clv.command()
@journey_source_options
@_BY
@_CALIBRATION
@_UNIT
@_HORIZON
@_DISCOUNT
def simple(
    m: Measure,
    by: str | None,
    calibration_end: str | None,
    unit: str,
    horizon: int,
    discount_rate: float,
) -> None:
    """The simple formula: average purchase value x frequency x lifespan, shown as computed.

    Frequency and lifespan (1 / churn) are per period while a customer, from the constant-rate
    fit; the lifetime figure is undiscounted, the horizon figure discounted (as 'clv value').
    """
    from journeykit.clv.journey import simple_clv_by

    data = _customers(m, calibration_end, unit)
    result = simple_clv_by(data, by, horizon_months=horizon, discount_rate=discount_rate)
    emit(result, m.fmt, lambda: _simple_table(result))


def simple_title(o: SimpleCLV) -> str:
    """One line: the lifetime figure and the horizon figure, each saying what it is."""
    life = "not measurable yet" if o.clv is None else f"{o.clv:,.2f}"
    text = f"simple CLV per new customer: {life} over a lifetime (undiscounted)"
    if o.horizon_clv is not None:
        text += (
            f", {o.horizon_clv:,.2f} over {o.horizon_months:g} months "
            f"({(o.discount_rate or 0) * 100:g}% a month discount)"
        )
    return text


def _simple_table(result: SimpleCLVByGroup) -> Table:
    o = result.overall
    grid = Table(title=simple_title(o), show_edge=False)
    grid.add_column("factor")
    grid.add_column("value", justify="right")
    grid.add_column("how")
    for f in o.factors:
        grid.add_row(f.name, f"{f.value:,.4g}", f.explanation)
    if not result.groups:
        return grid
    out_console.print(grid)
    return _head_table(_frame(result.rows()), f"by {result.by}")


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows)


@clv.command()
@journey_source_options
@click.option(
    "--by",
    type=click.Choice(["persona", "path", "cohort"]),
    multiple=True,
    help="Groupings to show (repeatable; default all three).",
)
@click.option(
    "--model",
    type=click.Choice(tuple(TRANSACTION_MODELS)),
    default="bgnbd",
    show_default=True,
    help="Transaction model; spend is always Gamma-Gamma.",
)
@_HORIZON
@_DISCOUNT
@_PENALIZER
@_CALIBRATION
@_UNIT
@click.option(
    "--intervals",
    is_flag=True,
    help="Each group's CLV with its 95% interval from the parameters' uncertainty.",
)
def value(
    m: Measure,
    by: tuple[str, ...],
    model: str,
    horizon: int,
    discount_rate: float,
    penalizer: float,
    calibration_end: str | None,
    unit: str,
    intervals: bool,
) -> None:
    """Expected discounted value by path variant, persona and entry cohort: which is worth most."""
    from journeykit.clv.journey import clv_by_journey

    data = _customers(m, calibration_end, unit)
    result = clv_by_journey(
        data,
        model=model,
        horizon=horizon,
        discount_rate=discount_rate,
        penalizer=penalizer,
        by=by or GROUPINGS,
        intervals=intervals,
    )
    _report_convergence(result.transaction_model)
    _report_convergence(result.spend_model)
    emit(result, m.fmt, lambda: value_table(result))


def value_table(result: JourneyCLV) -> Table:
    o = result.overall
    grid = Table(
        title=f"expected CLV over {result.horizon_months} months "
        f"({result.transaction_model.model} + Gamma-Gamma): {o.clv:,.2f} per customer",
        show_edge=False,
    )
    grid.add_column("by")
    grid.add_column("group", min_width=12)
    spread = o.clv_lower is not None
    names = ("customers", "purchases", "P(alive)", "spend", "CLV", *(["95% interval"] * spread))
    for name in (*names, "total"):
        grid.add_column(name, justify="right", no_wrap=True)
    for g in result.groups:
        interval = [f"{g.clv_lower:,.2f}-{g.clv_upper:,.2f}"] if spread else []
        grid.add_row(
            g.by,
            g.group,
            f"{g.customers:,}",
            f"{g.expected_purchases:.2f}",
            f"{g.probability_alive:.2f}",
            f"{g.expected_spend:,.2f}",
            f"{g.clv:,.2f}",
            *interval,
            f"{g.total_clv:,.0f}",
        )
    return grid


def register(group: click.Group) -> None:
    group.add_command(clv)


def print_demo_clv(events: ir.Table, journey: Journey, console: Console) -> None:
    """The CLV section of ``journeykit demo``: the simple formula, then the model's expected value
    of today's customers over the same 12 months, each saying what it measures."""
    from journeykit.clv.errors import RFMError
    from journeykit.clv.journey import clv_by_journey, journey_customers, simple_clv_by

    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False)

    data = journey_customers(events, journey, unit="weeks", top_paths=3)
    bought_again = int((data.summary.frequency > 0).sum())
    say(
        f"\n  customer lifetime value (journeykit clv ...): {len(data):,} customers bought, "
        f"{bought_again:,} again"
    )
    try:
        simple = simple_clv_by(data, "path", horizon_months=12)
    except RFMError as exc:
        say(f"  simple formula skipped: {exc}")
    else:
        for line in simple_lines(simple.overall):
            say(f"  {line}")
        say("  simple, 12 months for today's customers (and a lifetime), by route to the purchase:")
        for g in sorted(simple.groups, key=lambda g: -(g.horizon_clv_today or 0)):
            twelve = "(n/a)" if g.horizon_clv_today is None else f"{g.horizon_clv_today:,.2f}"
            life = "" if g.clv is None else f" ({g.clv:,.2f} a lifetime)"
            say(f"   {twelve:>8}  {g.group} ({g.customers:,}){life}")
    try:
        value = clv_by_journey(data, by=("persona", "path"))
    except RFMError as exc:
        say(f"  expected CLV skipped: {exc}")
        return
    say(
        f"  model: expected 12-month CLV of today's customers (BG/NBD + Gamma-Gamma, 1% a month): "
        f"{value.overall.clv:,.2f} per customer (mean P(alive) "
        f"{value.overall.probability_alive:.2f})"
    )
    for v in value.groups:
        say(f"   {v.clv:8,.2f}  {v.by} {v.group} ({v.customers:,})")
    say(
        "  the two differ where customers differ: the simple formula gives everyone the base's one "
        "purchase rate and churn, the model each customer their own, judged on their own history "
        '(docs/metrics.md "CLV")'
    )


def simple_lines(o: SimpleCLV) -> list[str]:
    """The simple formula in words, as ``demo`` prints it: each factor, then the horizon figure
    for a new customer and for today's customers (the one to compare with a model's CLV)."""
    if o.average_purchase_value is None or o.purchase_frequency is None or o.churn_rate is None:
        return [f"simple formula: {o.note}"]
    p = o.period
    value, rate, churn = o.average_purchase_value, o.purchase_frequency, o.churn_rate
    life = (
        f" x {o.lifespan.value:,.1f} {p}s lifespan (1 / {churn.value:.4f} churn a {p}) "
        f"= {o.clv:,.2f} over a lifetime, undiscounted"
        if o.lifespan is not None and o.clv is not None
        else f"; {o.note}"
    )
    lines = [
        f"simple formula: {value.value:,.2f} per purchase x {rate.value:.3f} purchases a {p} "
        f"while a customer{life}"
    ]
    if o.horizon_clv is not None and o.horizon_clv_today is not None:
        lines.append(
            f"simple formula over {o.horizon_months:g} months ({(o.discount_rate or 0) * 100:g}% "
            f"a month): {o.horizon_clv:,.2f} for a customer who is one today; "
            f"{o.horizon_clv_today:,.2f} averaged over today's customers (an estimated "
            f"{o.still_customers:.0%} still customers), the figure to compare with the model's"
        )
    return lines
