"""BG/BB (Fader, Hardie & Shang 2010) for discrete-time data: yearly donations, sessions a day.

At each of n opportunities an alive customer transacts with probability p ~ Beta(α, β), and
after each opportunity drops out for good with probability θ ~ Beta(γ, δ). The summary is the
same RFM as for the continuous models with whole numbers: ``frequency`` = x transactions after
the first, ``recency`` = t_x (the opportunity of the last one, 0 for none) and ``T`` = n.
"Customer-Base Analysis in a Discrete-Time Noncontractual Setting", Marketing Science 29(6).
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import function_hessian, maximise, numeric_gradient
from journeykit.clv._scipy import special
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import Model, broadcast_rfm, check_weights, dot
from journeykit.clv.rfm import RFM, FloatArray


class BetaGeoBetaBinomParams(NamedTuple):
    """α, β: transaction probability p ~ Beta(α, β); γ, δ: drop-out θ ~ Beta(γ, δ)."""

    alpha: float
    beta: float
    gamma: float
    delta: float


def _check_discrete(x: FloatArray, t_x: FloatArray, n: FloatArray) -> None:
    for name, values in (("frequency", x), ("recency", t_x), ("T", n)):
        bad = values != np.floor(values)
        if bad.any():
            row = int(np.argmax(bad))
            raise RFMError(
                f"{values[row]:g} is not a whole number of periods", column=name, row=row
            )
    bad = x > t_x
    if bad.any():
        row = int(np.argmax(bad))
        raise RFMError(
            f"{x[row]:g} transactions cannot end before opportunity {t_x[row]:g}",
            column="frequency",
            row=row,
        )


def _log_terms(
    p: BetaGeoBetaBinomParams, x: FloatArray, t_x: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(log of the alive-through-n term, log of the sum of died-after-opportunity terms)
    of FHS 2010 eq. 5; the second is −inf when t_x = n (no room to die unseen)."""
    sp = special()
    a, b, g, d = p
    base_ab, base_gd = sp.betaln(a, b), sp.betaln(g, d)
    alive = sp.betaln(a + x, b + n - x) - base_ab + sp.betaln(g, d + n) - base_gd
    died = np.full_like(x, -np.inf)
    gap = n - t_x
    for i in range(int(gap.max()) if gap.size else 0):
        on = gap > i
        term = (
            sp.betaln(a + x[on], b + t_x[on] - x[on] + i) - base_ab
            + sp.betaln(g + 1, d + t_x[on] + i) - base_gd
        )  # fmt: skip
        died[on] = np.logaddexp(died[on], term)
    return np.asarray(alive), died


def individual_log_likelihood(
    p: BetaGeoBetaBinomParams, x: FloatArray, t_x: FloatArray, n: FloatArray
) -> FloatArray:
    alive, died = _log_terms(p, x, t_x, n)
    return np.asarray(np.logaddexp(alive, died))


class BetaGeoBetaBinom(Model[BetaGeoBetaBinomParams]):
    """BG/BB: discrete opportunities to transact, Beta-Bernoulli buying, Beta-geometric drop-out."""

    name: ClassVar[str] = "BetaGeoBetaBinom"
    params_type: ClassVar[type[BetaGeoBetaBinomParams]] = BetaGeoBetaBinomParams

    def fit(self, rfm: RFM, *, weights: npt.ArrayLike | None = None) -> Self:
        """Maximum likelihood; rows with the same (x, t_x, n) are merged into weights first,
        so a base of millions costs what its few hundred patterns cost."""
        import pandas as pd

        x, t_x, n = rfm.frequency.astype(np.float64), rfm.recency, rfm.T
        _check_discrete(x, t_x, n)
        w = np.ones(len(rfm)) if weights is None else check_weights(weights, len(rfm))
        patterns = pd.DataFrame({"x": x, "t": t_x, "n": n, "w": w}).groupby(["x", "t", "n"]).w.sum()
        idx = patterns.index
        px, pt, pn = (np.asarray(idx.get_level_values(k), np.float64) for k in ("x", "t", "n"))
        pw = patterns.to_numpy(dtype=np.float64)

        def total(theta: FloatArray) -> float:
            with np.errstate(invalid="ignore", over="ignore"):
                ll = individual_log_likelihood(BetaGeoBetaBinomParams(*np.exp(theta)), px, pt, pn)
            return dot(pw, ll)

        optimum = maximise(
            lambda theta: (total(theta), numeric_gradient(total, theta)),
            [[0.0, 0.0, 0.0, 0.0], [np.log(0.5), np.log(2.0), np.log(0.5), np.log(2.0)]],
            names=BetaGeoBetaBinomParams._fields,
            customers=float(pw.sum()),
            penalizer=self.penalizer,
            hessian=lambda theta: function_hessian(total, theta),
        )
        self._set_fit(optimum, round(float(pw.sum())), rfm.time_unit)
        return self

    def log_likelihood(self, rfm: RFM) -> FloatArray:
        return individual_log_likelihood(
            self._fitted(), rfm.frequency.astype(np.float64), rfm.recency, rfm.T
        )

    def probability_alive_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        periods: npt.ArrayLike,
        *,
        ahead: int = 1,
    ) -> FloatArray:
        """P(alive at opportunity n + ahead | x, t_x, n) (FHS 2010 eq. 11 is ahead = 1)."""
        p = self._fitted()
        x, t_x, n = broadcast_rfm(frequency, recency, periods)
        sp = special()
        alive, died = _log_terms(p, x, t_x, n)
        shift = sp.betaln(p.gamma, p.delta + n + ahead) - sp.betaln(p.gamma, p.delta + n)
        return np.asarray(np.exp(alive + shift - np.logaddexp(alive, died)))

    def expected_purchases_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        periods: npt.ArrayLike,
        *,
        horizon: int,
    ) -> FloatArray:
        """E[transactions in opportunities n+1 .. n+horizon | x, t_x, n] (FHS 2010 eq. 13)."""
        a, b, g, d = p = self._fitted()
        x, t_x, n = broadcast_rfm(frequency, recency, periods)
        sp = special()
        alive, died = _log_terms(p, x, t_x, n)
        log_buy = sp.betaln(a + x + 1, b + n - x) - sp.betaln(a, b)
        ratio = np.exp(
            sp.gammaln(1 + d + n) - sp.gammaln(g + d + n) + sp.gammaln(g + d) - sp.gammaln(1 + d)
        ) - np.exp(
            sp.gammaln(1 + d + n + horizon) - sp.gammaln(g + d + n + horizon)
            + sp.gammaln(g + d) - sp.gammaln(1 + d)
        )  # fmt: skip
        return np.asarray(np.exp(log_buy - np.logaddexp(alive, died)) * d / (g - 1) * ratio)

    def expected_purchases_new(self, periods: npt.ArrayLike) -> FloatArray:
        """E[X(n)]: transactions of a new customer in the first n opportunities (FHS eq. 9)."""
        a, b, g, d = self._fitted()
        n = np.asarray(periods, dtype=np.float64)
        sp = special()
        decay = np.exp(
            sp.gammaln(g + d) - sp.gammaln(g + d + n) + sp.gammaln(1 + d + n) - sp.gammaln(1 + d)
        )
        return np.asarray(a / (a + b) * d / (g - 1) * (1 - decay))

    def probability_of_purchases_new(self, x: int, periods: int) -> float:
        """P(X(n) = x) for a new customer (FHS 2010 eq. 7)."""
        a, b, g, d = self._fitted()
        sp = special()
        n = int(periods)
        if not 0 <= x <= n:
            return 0.0
        base_ab, base_gd = sp.betaln(a, b), sp.betaln(g, d)
        log_alive = (
            np.log(sp.comb(n, x)) + sp.betaln(a + x, b + n - x) - base_ab
            + sp.betaln(g, d + n) - base_gd
        )  # fmt: skip
        i = np.arange(x, n, dtype=np.float64)
        died = np.exp(
            np.log(sp.comb(i, x)) + sp.betaln(a + x, b + i - x) - base_ab
            + sp.betaln(g + 1, d + i) - base_gd
        )  # fmt: skip
        return float(np.exp(log_alive) + died.sum())
