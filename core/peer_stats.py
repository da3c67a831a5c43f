"""Peer statistics: exact for staff, coarsened for clients so that no peer's score can be solved for.

Exact summary statistics of a small group are the group: with n scores, p05, q1, median, q3, p95
and the mean are linear equations in the sorted scores, and an own score or a second filter choice
(the same group with one peer more) fills in the rest. So a client's figures are the quartiles
only, of the scores rounded to STEP points and rounded to STEP points again: no mean, no exact
count (`size_band`), and no 5th or 95th percentile, which in a group of a few dozen is little more
than its lowest or highest peer (quartiles of 9 or more never touch the two extremes at either
end). The client's own product is placed only by the quarter its score falls in against those
published quartiles, which says nothing they do not. An error of up to STEP / 2 in every figure,
multiplied by the group size when two groups are differenced, is what makes solving for a peer
meaningless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

STEP = 5.0
MIN_PEER_ORGANIZATIONS = 3
QUANTILES = {"p05": 0.05, "q1": 0.25, "median": 0.5, "q3": 0.75, "p95": 0.95}
# Upper edges of the size bands shown to clients; the lowest band starts at the group minimum.
SIZE_EDGES = (20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 100000)
CLIENT_QUANTILES = ("q1", "median", "q3")
NAN = float("nan")
QUARTERS = ("Bottom quarter", "Second quarter", "Third quarter", "Top quarter")
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class GroupStats:
    """One peer group summed up: its size (a count for staff, a band for clients), its mean and
    quantiles (NaN where a client is not shown them)."""

    assessments: int | str
    mean: float
    p05: float
    q1: float
    median: float
    q3: float
    p95: float


class PeerCell(NamedTuple):
    """How many of a client's peers one organisation has in one industry and tier."""

    industry: str
    tier: str
    organization_id: int
    products: int


def quantiles(values: Floats, counts: Floats, qs: Floats) -> Floats:
    """The qs-quantiles (linear interpolation, as pandas) of sorted values repeated counts times,
    all in one pass over the counts."""
    ends = np.cumsum(counts)
    h = (ends[-1] - 1) * qs
    low, high = np.floor(h), np.ceil(h)
    at_low = values[np.searchsorted(ends, low, side="right")]
    at_high = values[np.searchsorted(ends, high, side="right")]
    out: Floats = at_low + (h - low) * (at_high - at_low)
    return out


_ALL = np.array(list(QUANTILES.values()))
_CLIENT = np.array([QUANTILES[name] for name in CLIENT_QUANTILES])


def percentile(values: Floats, counts: Floats, x: float) -> float:
    """Mid-rank percentile of x: the share below it plus half the share equal to it, in %."""
    below, equal = counts[values < x].sum(), counts[values == x].sum()
    return float(100.0 * (below + 0.5 * equal) / counts.sum())


def to_step(x: npt.ArrayLike) -> Floats:
    """x rounded to the nearest multiple of STEP (halves up, unlike numpy's round-half-even)."""
    return np.floor(np.asarray(x, dtype=float) / STEP + 0.5) * STEP


def exact_stats(values: Floats, counts: Floats) -> GroupStats:
    """Size, mean and quantiles of sorted values repeated counts times (what staff see)."""
    p05, q1, median, q3, p95 = quantiles(values, counts, _ALL).tolist()
    total = counts.sum()
    return GroupStats(
        assessments=int(total),
        mean=float((values * counts).sum() / total),
        p05=p05,
        q1=q1,
        median=median,
        q3=q3,
        p95=p95,
    )


def coarse_stats(values: Floats, counts: Floats, min_peers: int) -> GroupStats:
    """What a client sees of the same group: the quartiles of the scores rounded to STEP points,
    rounded to STEP points again (interpolation lands between steps), and a size band."""
    stepped = to_step(values)  # rounding keeps sorted values sorted
    q1, median, q3 = to_step(quantiles(stepped, counts, _CLIENT)).tolist()
    return GroupStats(
        assessments=size_band(int(counts.sum()), min_peers),
        mean=NAN,
        p05=NAN,
        q1=q1,
        median=median,
        q3=q3,
        p95=NAN,
    )


def size_band(n: int, low: int) -> str:
    """A group size as a band ("10-19", "20-49", ...), starting at the group minimum `low`."""
    start = low
    for edge in SIZE_EDGES:
        if n < edge and edge > start:
            return f"{start:,}–{edge - 1:,}"
        start = max(start, edge)
    return f"{start:,} or more"


def quarter(score: float, q1: float, median: float, q3: float) -> str:
    """Which quarter of the peers a score falls in, read off the published quartiles."""
    return QUARTERS[int(np.searchsorted([q1, median, q3], score, side="right"))]


def _matching(cells: list[PeerCell], industry: str | None, tier: str | None) -> list[PeerCell]:
    return [
        c
        for c in cells
        if (industry is None or c.industry == industry) and (tier is None or c.tier == tier)
    ]


def _large(cells: list[PeerCell], k: int) -> bool:
    organizations = {c.organization_id for c in cells}
    return sum(c.products for c in cells) >= k and len(organizations) >= MIN_PEER_ORGANIZATIONS


def refusal(cells: list[PeerCell], industry: str | None, tier: str | None, k: int) -> str | None:
    """Why a client may not see the peers of one industry and tier (None: any), or None.

    `cells` are all its peers, by organisation, industry and tier. The group must hold
    k products from MIN_PEER_ORGANIZATIONS organisations, and so must what separates it from
    each wider choice of the two filters: a group and a wider one that differ by a single peer
    would otherwise be differenced to place that peer."""
    group = _matching(cells, industry, tier)
    if not _large(group, k):
        return "small"
    for wider in {(industry, None), (None, tier), (None, None)} - {(industry, tier)}:
        rest = [c for c in _matching(cells, *wider) if c not in group]
        if rest and not _large(rest, k):
            return "near"
    return None
