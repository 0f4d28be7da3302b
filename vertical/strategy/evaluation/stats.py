"""Bootstrap confidence intervals over eval items (percentile method, fixed seed, numpy only).

An eval set is a sample of the questions users will ask, so every score is an estimate. Resampling the
items with replacement (``n_resamples`` times) and recomputing the statistic gives its sampling spread;
the 2.5th and 97.5th percentiles of those recomputations are the 95% interval (Efron's percentile
bootstrap, as ``scipy.stats.bootstrap(method="percentile")``).

Paired comparisons resample the *same* item indices for both candidates and look at the difference:
both answered the same questions, so per-question difficulty cancels and the interval is much narrower
than two independent intervals would suggest. "A is significantly better than B" means the paired
interval on A − B lies entirely above 0.

A statistic is a function of an item matrix (n items × columns, NaN where a metric does not apply to an
item) evaluated for a whole stack of resamples at once: ``stat(m[idx])`` with ``idx`` of shape
(resamples, n) must return one value per resample.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

N_RESAMPLES = 2000
SEED = 20240607
CONFIDENCE = 0.95

Statistic = Callable[[np.ndarray], np.ndarray]  # (resamples, n, columns) → (resamples,)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def to_list(self) -> list[float]:
        return [round(self.low, 4), round(self.high, 4)]

    def to_dict(self) -> dict[str, float]:
        return {"estimate": round(self.estimate, 4), "low": round(self.low, 4), "high": round(self.high, 4)}


def resample_indices(n: int, n_resamples: int = N_RESAMPLES, seed: int = SEED) -> np.ndarray:
    """(n_resamples, n) item indices drawn with replacement; the same seed gives the same draws."""
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _as_matrix(values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    m = np.asarray(values, dtype=float)
    return m[:, None] if m.ndim == 1 else m


def column_mean(stack: np.ndarray) -> np.ndarray:
    """The default statistic: mean of the first column over the resampled items (NaN items ignored)."""
    return nanmean(stack[..., 0], axis=-1)


def nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean ignoring NaN; an all-NaN slice gives NaN without numpy's warning (a metric no item has)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _interval(estimate: float, draws: np.ndarray, confidence: float) -> Interval:
    draws = draws[~np.isnan(draws)]
    if not draws.size:
        return Interval(estimate, float("nan"), float("nan"))
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high))


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Statistic = column_mean,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Percentile interval of ``statistic`` over items (rows of ``values``)."""
    m = _as_matrix(values)
    if m.shape[0] == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    estimate = float(statistic(m[None, ...])[0])
    draws = statistic(m[resample_indices(m.shape[0], n_resamples, seed)])
    return _interval(estimate, draws, confidence)


def paired_bootstrap_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    statistic: Statistic = column_mean,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Interval on statistic(a) − statistic(b), resampling the same items (rows) for both."""
    ma, mb = _as_matrix(a), _as_matrix(b)
    if ma.shape[0] != mb.shape[0]:
        raise ValueError(f"paired bootstrap needs the same items for both: {ma.shape[0]} vs {mb.shape[0]} rows")
    if ma.shape[0] == 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    estimate = float(statistic(ma[None, ...])[0] - statistic(mb[None, ...])[0])
    idx = resample_indices(ma.shape[0], n_resamples, seed)
    return _interval(estimate, statistic(ma[idx]) - statistic(mb[idx]), confidence)


def unpaired_bootstrap_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    statistic: Statistic = column_mean,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
) -> Interval:
    """Interval on statistic(a) − statistic(b) resampling each side on its own (ignores the pairing)."""
    ma, mb = _as_matrix(a), _as_matrix(b)
    estimate = float(statistic(ma[None, ...])[0] - statistic(mb[None, ...])[0])
    da = statistic(ma[resample_indices(ma.shape[0], n_resamples, seed)])
    db = statistic(mb[resample_indices(mb.shape[0], n_resamples, seed + 1)])
    return _interval(estimate, da - db, confidence)
