"""Arrays as a loader produces them, before label encoding and the validation split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Shape = tuple[int, ...]
KINDS = ("flat", "sequence", "image")


@dataclass(frozen=True, eq=False)
class RawData:
    """Train and test arrays as loaded, with their original labels.

    ``views`` maps each kind the data can take to its per-example shape; ``origin`` and
    ``label_field`` are where problems with the labels are reported (the data file and its
    label key or column, or the built-in name); ``test_origin`` and ``test_label_field`` the
    same for the test labels (``test_origin`` empty: the same file as ``origin``).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    views: dict[str, Shape]
    origin: str
    label_field: str = "y_train"
    test_origin: str = ""
    test_label_field: str = "y_test"


def natural_views(feature_shape: Shape) -> dict[str, Shape]:
    """The kind given by the rank, plus ``sequence (D, 1)`` for flat data."""
    shape = tuple(int(s) for s in feature_shape)
    views = {KINDS[len(shape) - 1]: shape}
    if len(shape) == 1:
        views["sequence"] = (shape[0], 1)
    return views


def frozen(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only in place and return it."""
    array.setflags(write=False)
    return array
