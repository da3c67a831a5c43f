"""A red-team script against the benchmark: solve for the peers' scores from published figures.

Every figure the benchmark publishes is a linear function of the group's sorted scores: the
q-quantile (linear interpolation) weighs the two order statistics around (n - 1) q, the mean
weighs all n equally, and the attacker's own score is one order statistic, placed by its
percentile. The attacker takes the published quantiles joined by straight lines as a first guess
and moves it as little as possible to satisfy every equation (least squares). With as many
independent equations as unknowns the guess no longer matters and the answer is exact.
"""

from __future__ import annotations

import math

import numpy as np

QUANTILES = {"p05": 0.05, "q1": 0.25, "median": 0.5, "q3": 0.75, "p95": 0.95}


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def quantile_row(n: int, q: float) -> np.ndarray:
    """The weights the q-quantile puts on n sorted scores."""
    row = np.zeros(n)
    h = (n - 1) * q
    low, high = math.floor(h), math.ceil(h)
    row[low] += 1 - (h - low)
    row[high] += h - low
    return row


def equations(figures: dict, n: int) -> tuple[list[np.ndarray], list[float]]:
    """The equations one group's published figures (quantiles, mean) put on its n sorted scores."""
    rows, values = [], []
    for name, q in QUANTILES.items():
        if _known(figures.get(name)):
            rows.append(quantile_row(n, q))
            values.append(float(figures[name]))
    if _known(figures.get("mean")):
        rows.append(np.full(n, 1.0 / n))
        values.append(float(figures["mean"]))
    return rows, values


def first_guess(figures: dict, n: int) -> np.ndarray:
    """The published quantiles joined by straight lines (flat beyond the outermost)."""
    points = sorted((q, float(figures[k])) for k, q in QUANTILES.items() if _known(figures.get(k)))
    return np.interp((np.arange(n) / max(n - 1, 1)), [q for q, _ in points], [v for _, v in points])


def solve(
    rows: list[np.ndarray], values: list[float], guess: np.ndarray
) -> tuple[np.ndarray, float]:
    """The scores nearest the guess that satisfy the equations best, and the residual left."""
    a, b = np.array(rows), np.array(values)
    x = guess + np.linalg.pinv(a) @ (b - a @ guess)
    return np.clip(x, 0, 100), float(np.linalg.norm(a @ x - b))


def own_rank(percentile: float, n: int) -> int:
    """Where the attacker's own score sits among n sorted scores, from its mid-rank percentile."""
    return min(n - 1, max(0, round(percentile * n / 100 - 0.5)))


def recover_group(
    figures: dict, n: int, own: float | None = None, own_percentile: float | None = None
) -> np.ndarray:
    """The other members' sorted scores of a group of n, from its figures and (if it is in the
    group) the attacker's own score and percentile."""
    rows, values = equations(figures, n)
    rank = None
    if own is not None and own_percentile is not None:
        rank = own_rank(own_percentile, n)
        rows.append(np.eye(n)[rank])
        values.append(own)
    x, _ = solve(rows, values, first_guess(figures, n))
    return np.sort(np.delete(x, rank) if rank is not None else x)


def recover_difference(big: dict, small: dict, n_big: int) -> float:
    """The score of the one peer in group `big` (n_big scores) and not in `small` (one fewer):
    try it at every rank, keep the rank whose equations fit best."""
    best = None
    for rank in range(n_big):
        rows, values = equations(big, n_big)
        small_rows, small_values = equations(small, n_big - 1)
        rows += [np.insert(r, rank, 0.0) for r in small_rows]  # `small` lacks the peer at `rank`
        x, residual = solve(rows, values + small_values, first_guess(big, n_big))
        if best is None or residual < best[0] - 1e-9:
            best = (residual, float(x[rank]))
    return best[1]


def max_error(recovered, truth) -> float:
    """How far the worst recovered score is from the true one (both as sorted lists)."""
    return float(np.max(np.abs(np.sort(np.asarray(recovered)) - np.sort(np.asarray(truth)))))
