"""Pareto fronts and knee points of trials scored on several objectives."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nas.metrics import DIRECTIONS


def _as_minimized(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(directions):
        raise ValueError(
            f"values must have shape (n, {len(directions)}) for {len(directions)} "
            f"directions, got {values.shape}"
        )
    unknown = [d for d in directions if d not in DIRECTIONS]
    if unknown:
        raise ValueError(f"directions must be in {list(DIRECTIONS)}, got {unknown}")
    signs = np.array([-1.0 if d == "maximize" else 1.0 for d in directions])
    return values * signs


def pareto_mask(values: np.ndarray, directions: Sequence[str]) -> np.ndarray:
    """Boolean mask of the rows of ``values`` (shape ``(n, k)``, one column per direction)
    that no other row dominates. Rows with a NaN are never on the front; equal rows are on it
    together. Takes O(n * front size) time, so large studies are fine."""
    scores = _as_minimized(values, directions)
    mask = np.zeros(len(scores), dtype=bool)
    valid = np.flatnonzero(~np.isnan(scores).any(axis=1))
    # In lexicographic order no row can be dominated by a later one, so one pass suffices.
    order = valid[np.lexsort(scores[valid].T[::-1])]
    front: list[int] = []
    for i in order:
        if front:
            kept = scores[front]
            dominated = np.all(kept <= scores[i], axis=1) & np.any(kept < scores[i], axis=1)
            if dominated.any():
                continue
        front.append(i)
    mask[front] = True
    return mask


def knee_index(values: np.ndarray, directions: Sequence[str]) -> int:
    """Index of the knee among front rows ``values``: each objective is scaled to [0, 1] over
    these rows (best 0, worst 1; a constant objective is 0 everywhere) and the row nearest to
    the ideal point (all zeros) wins; ties go to the first row. Raises ``ValueError`` when
    ``values`` is empty."""
    scores = _as_minimized(values, directions)
    if len(scores) == 0:
        raise ValueError("knee_index needs at least one row")
    low, high = scores.min(axis=0), scores.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (scores - low) / span
    return int(np.argmin(np.linalg.norm(scaled, axis=1)))
