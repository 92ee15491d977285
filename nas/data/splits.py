"""Stratified splits, and the fixed seed and default size of every test split drawn here."""

from __future__ import annotations

import numpy as np

# Seed of every test split this package draws; fixed so the test set is the same for all runs.
TEST_SEED = 0
DEFAULT_TEST_FRACTION = 0.2


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, take)`` with about ``fraction`` of each class in ``take``.

    Each class contributes ``round(n * fraction)`` examples to ``take`` but always keeps at
    least one in ``keep``. Both index arrays are sorted; the result depends only on ``y``,
    ``fraction`` and ``seed``.
    """
    rng = np.random.default_rng(seed)
    take = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        count = min(round(len(members) * fraction), len(members) - 1)
        take.append(rng.permutation(members)[:count])
    taken = np.sort(np.concatenate(take)) if take else np.zeros(0, np.int64)
    keep = np.setdiff1d(np.arange(len(y)), taken)
    return keep, taken
