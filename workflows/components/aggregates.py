"""Aggregates one party's data may give another party: every value covers at least k rows.

The threat: a project member who receives a report derived from another party's rows must not
rebuild those rows from it. A curve with one point per distinct score, whose threshold is the
score, hands over every (score, label) pair; a min, max or quantile is a single row's value; an
equal-width histogram's edges give the min and the max. So what leaves the owning party is
built here from groups of at least `k` rows (`RunContext.min_group_rows`, the
PRIVPAD_DISCLOSURE_MIN_ROWS setting):

- `grouped_cuts`: curve points kept only where at least k rows separate them (and at least k
  rows remain after them), at distinct-score boundaries so each point is still a true point of
  the curve;
- `between`: a threshold shown for such a point is the shortest decimal strictly between two
  neighbouring distinct scores, so it is never any row's exact score;
- `grouped_histogram`: bins on "nice" round edges (1, 2, 5 x 10^n), merged until every bin has
  k rows, with open-ended outer bins (no min or max);
- `enough_rows`: whether a group is large enough to be described at all.

A party that can re-run a pipeline with chosen parameters (thresholds, bucket counts) learns
more than one run shows; which re-runs are allowed is the disclosure plan's business (owner
approval bound to the plan's fingerprint), not this module's.
"""

from __future__ import annotations

import math

import numpy as np

MAX_DECIMALS = 17


def enough_rows(count: int, k: int) -> bool:
    return count >= k


def grouped_cuts(rows_at_cut: np.ndarray, total: int, k: int) -> list[int]:
    """Indices of the cuts to keep: cumulative row counts `rows_at_cut` (increasing, the last
    being `total`) thinned so that every kept cut is at least k rows after the previous one and
    at least k rows before the end; the last cut is kept when the whole covers k rows."""
    kept, last = [], 0
    for index, rows in enumerate(rows_at_cut[:-1]):
        if rows - last >= k and total - rows >= k:
            kept.append(index)
            last = int(rows)
    if total >= k and len(rows_at_cut):
        kept.append(len(rows_at_cut) - 1)
    return kept


def between(low: float, high: float) -> float:
    """The shortest decimal strictly between `low` and `high` (low < high), nearest their
    middle: a rounded threshold that equals no value of the data it separates.

    At each number of decimals the multiple nearest the middle is tried: if any multiple lies
    inside the interval, that one does.
    """
    if not low < high:
        raise ValueError(f"between needs low < high, got {low} and {high}")
    middle = (low + high) / 2
    for places in range(-math.floor(math.log10(high - low)) - 1, MAX_DECIMALS):
        step = 10.0**-places
        candidate = round(round(middle / step) * step, max(places, 0))
        if low < candidate < high:
            return candidate
    return middle


def nice_step(span: float, bins: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about `bins` bins."""
    raw = span / max(bins, 1) if span > 0 else 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def grouped_histogram(values: np.ndarray, bins: int, k: int) -> list[dict]:
    """Counts of `values` on round edges, adjacent bins merged until each holds k values; the
    first bin has no lower edge and the last no upper edge (the min and max stay private)."""
    if len(values) < k:
        return []
    step = nice_step(float(values.max() - values.min()), bins)
    start, stop = math.floor(values.min() / step), math.floor(values.max() / step) + 1
    edges = np.arange(start, stop + 1) * step
    counts = np.histogram(values, bins=edges)[0]
    merged: list[dict] = []
    for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True):
        if merged and merged[-1]["count"] < k:
            merged[-1] |= {"high": float(high), "count": merged[-1]["count"] + int(count)}
        else:
            merged.append({"low": float(low), "high": float(high), "count": int(count)})
    if len(merged) > 1 and merged[-1]["count"] < k:
        last = merged.pop()
        merged[-1] |= {"high": last["high"], "count": merged[-1]["count"] + last["count"]}
    merged[0]["low"], merged[-1]["high"] = None, None
    return merged
