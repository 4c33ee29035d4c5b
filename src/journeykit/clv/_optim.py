"""Maximum likelihood in log-parameter space, with a diagnosis instead of an exception."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from journeykit.clv._scipy import optimize
from journeykit.clv.rfm import FloatArray

# log-parameters -> (total log-likelihood, its gradient with respect to the log-parameters)
LogLik = Callable[[FloatArray], tuple[float, FloatArray]]

_BOUND = 18.0  # |log θ| <= 18, i.e. θ within [1.5e-8, 6.6e7]: wide, and keeps exp() finite
_GRADIENT_TOLERANCE = 1e-4  # on the per-customer objective


@dataclass(frozen=True)
class FitDiagnosis:
    """How the optimiser ended, so a caller can judge the fit (lifetimes raises instead)."""

    converged: bool
    message: str
    gradient_norm: float  # of the per-customer objective, in log-parameter space
    hessian_positive_definite: bool
    iterations: int
    starts: int
    at_bound: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"at_bound": list(self.at_bound)}


@dataclass(frozen=True)
class Optimum:
    log_params: FloatArray
    log_likelihood: float  # unpenalised, summed over customers
    covariance: FloatArray | None  # of the natural parameters
    diagnosis: FitDiagnosis


def maximise(
    loglik: LogLik,
    starts: Sequence[Sequence[float]],
    *,
    names: Sequence[str],
    customers: float,
    penalizer: float,
    screen: tuple[LogLik, float] | None = None,
    hessian: Callable[[FloatArray], FloatArray] | None = None,
) -> Optimum:
    """Best of several deterministic starts, polished on the full data.

    ``hessian`` (of the log-likelihood in log-parameters) replaces differences of the gradient
    for the standard errors, where the gradient itself is numeric.

    ``screen`` (a log-likelihood on a subsample and its size) runs the starts cheaply; only the
    best one is then optimised on all customers. The penalty ``penalizer * sum(log θ²)`` is on
    the per-customer objective, as lifetimes does (lifetimes penalises θ², not log θ).
    """
    with single_threaded_blas():
        return _maximise(loglik, starts, names, customers, penalizer, screen, hessian)


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """numpy and scipy each load an OpenBLAS; their idle threads spin against each other and
    L-BFGS-B's tiny BLAS calls (measured: a 100k-customer BG/NBD fit took 0.6 CPU-s instead of
    0.25). The work here is 4-dimensional, so one BLAS thread loses nothing. threadpoolctl
    limits the libraries loaded when the block starts, so import scipy before entering it (a
    fresh process importing scipy.optimize inside it spent 0.4 CPU s more at 10k customers)."""
    optimize()  # loads scipy's BLAS now, so that the limit below covers it
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
    except ImportError:  # optional: only speed is at stake
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _maximise(
    loglik: LogLik,
    starts: Sequence[Sequence[float]],
    names: Sequence[str],
    customers: float,
    penalizer: float,
    screen: tuple[LogLik, float] | None,
    hessian: Callable[[FloatArray], FloatArray] | None,
) -> Optimum:
    first, first_n = screen if screen is not None else (loglik, customers)
    runs = [_minimise(first, np.asarray(s, float), first_n, penalizer) for s in starts]
    best = min(runs, key=lambda run: float(run.fun))
    iterations = sum(int(run.nit) for run in runs)
    # The optimiser's success flag is not used: _diagnose judges by the gradient.
    theta, message = np.asarray(best.x, float), _text(best.message)
    if screen is not None:
        theta, _, message, steps = _polish(loglik, first, theta, customers, first_n, penalizer)
        iterations += steps
    information = (hessian or (lambda t: _hessian(loglik, t)))(theta)
    return _diagnose(
        loglik, theta, information, names, customers, penalizer, len(starts), iterations, message
    )


def _text(message: Any) -> str:
    return message if isinstance(message, str) else str(message)


def _polish(
    loglik: LogLik, screen: LogLik, theta: FloatArray, n: float, n_screen: float, penalizer: float
) -> tuple[FloatArray, bool, str, int]:
    """Newton steps on all customers with the subsample's Hessian (per customer, it differs by
    sampling noise only): a handful of full passes instead of an L-BFGS run from scratch."""
    information = -_hessian(screen, theta) / n_screen + 2 * penalizer * np.eye(theta.size)
    f = _objective(loglik, n, penalizer)
    value, grad = f(theta)
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        run = _minimise(loglik, theta, n, penalizer)
        return np.asarray(run.x, float), bool(run.success), _text(run.message), int(run.nit)
    for step in range(1, 51):
        direction = np.linalg.solve(information, grad)
        size = 1.0
        while size > 1e-4:
            trial = np.clip(theta - size * direction, -_BOUND, _BOUND)
            new_value, new_grad = f(trial)
            if new_value <= value:
                break
            size /= 2
        else:  # at float precision the objective stops decreasing; judge by the gradient
            small = float(np.linalg.norm(grad)) < _GRADIENT_TOLERANCE
            return theta, small, "Newton polish: no further decrease along the step", step
        theta, value, grad = trial, new_value, new_grad
        if float(np.linalg.norm(grad)) < 1e-8:
            return theta, True, "Newton polish: gradient norm below 1e-8", step
    return theta, False, "Newton polish: 50 steps without reaching gradient norm 1e-8", 50


def _objective(loglik: LogLik, n: float, penalizer: float) -> Callable[[FloatArray], Any]:
    def f(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = loglik(theta)
        value = -ll / n + penalizer * float(theta @ theta)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(theta)
        return value, -grad / n + 2 * penalizer * theta

    return f


def _minimise(loglik: LogLik, start: FloatArray, n: float, penalizer: float) -> Any:
    return optimize().minimize(
        _objective(loglik, n, penalizer),
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_BOUND, _BOUND)] * len(start),
        options={"maxiter": 3000, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
    )


def _diagnose(
    loglik: LogLik,
    theta: FloatArray,
    loglik_hessian: FloatArray,
    names: Sequence[str],
    n: float,
    penalizer: float,
    starts: int,
    iterations: int,
    message: str,
) -> Optimum:
    ll, grad = loglik(theta)
    gnorm = float(np.linalg.norm(-grad / n + 2 * penalizer * theta))
    hessian = loglik_hessian - 2 * penalizer * n * np.eye(theta.size)
    covariance, positive = _covariance(-hessian, np.exp(theta))
    at_bound = tuple(nm for nm, t in zip(names, theta, strict=True) if abs(t) >= _BOUND - 1e-6)
    # The gradient decides, not the optimiser's flag: L-BFGS-B reports "ABNORMAL" when its line
    # search cannot improve at float precision, at an optimum as good as a "converged" one.
    converged = gnorm < _GRADIENT_TOLERANCE and positive and not at_bound
    diagnosis = FitDiagnosis(converged, message, gnorm, positive, iterations, starts, at_bound)
    return Optimum(theta, float(ll), covariance, diagnosis)


def _hessian(loglik: LogLik, theta: FloatArray, step: float = 1e-5) -> FloatArray:
    """Central differences of the analytic (or accurate numeric) gradient, symmetrised."""
    k = theta.size
    h = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (loglik(theta + e)[1] - loglik(theta - e)[1]) / (2 * step)
    return (h + h.T) / 2


def _covariance(information: FloatArray, params: FloatArray) -> tuple[FloatArray | None, bool]:
    """Inverse observed information, mapped from log θ to θ by the delta method (∂θ/∂log θ = θ)."""
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        return None, False
    cov_log = np.linalg.inv(information)
    return cov_log * np.outer(params, params), True


def numeric_gradient(
    f: Callable[[FloatArray], float], theta: FloatArray, step: float = 1e-6
) -> FloatArray:
    """Central differences; used where the analytic gradient (Pareto/NBD's 2F1) is impractical."""
    grad = np.empty(theta.size)
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = step
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * step)
    return grad


def function_hessian(
    f: Callable[[FloatArray], float], theta: FloatArray, step: float = 1e-3
) -> FloatArray:
    """Second differences of the function itself (4 values per entry, 2 on the diagonal).

    Differencing a numeric gradient loses about half the digits twice (Pareto/NBD standard
    errors came out to 2-3 digits); this keeps 5-6 on CDNOW with fewer evaluations (33 vs 64).
    """
    k = theta.size
    e = np.eye(k) * step
    centre = f(theta)
    h = np.empty((k, k))
    for i in range(k):
        h[i, i] = (f(theta + 2 * e[i]) - 2 * centre + f(theta - 2 * e[i])) / (4 * step**2)
        for j in range(i):
            h[i, j] = h[j, i] = (
                f(theta + e[i] + e[j])
                - f(theta + e[i] - e[j])
                - f(theta - e[i] + e[j])
                + f(theta - e[i] - e[j])
            ) / (4 * step**2)
    return h
