"""Label checks, and the encoding of original labels as class codes ``0..K-1``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nas.checks import short
from nas.data.raw import RawData
from nas.errors import SpecError


def check_labels(y: np.ndarray, origin: str | Path, field: str, min_classes: int) -> None:
    """Reject missing labels, labels that cannot be sorted, and fewer than ``min_classes``.

    Raises :class:`SpecError` pointing at ``origin`` and ``field``.
    """
    import pandas as pd  # only user files reach here; pandas costs a search's start-up

    if pd.isna(y).any():
        raise SpecError(origin, field, f"{int(pd.isna(y).sum())} missing label(s)")
    classes = _sorted_classes(y, origin, field)
    if len(classes) < min_classes:
        raise SpecError(
            origin,
            field,
            f"has {len(classes)} class(es) {[str(c) for c in classes]}; "
            f"classification needs at least {min_classes}",
        )


def encode_labels(raw: RawData) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(y_train, y_test, class_names)``: the original labels of train and test together
    mapped to ``int32`` codes ``0..K-1`` in sorted order, and each code's original as text.

    Where either part holds text, both are compared as text: a test table whose labels all
    look like numbers is read as numbers, yet ``3`` there is the training set's ``"3"``.
    A test class the training labels lack raises :class:`SpecError` at the test labels: no
    model could learn it, and its test examples would count as errors of every candidate.
    """
    parts = [raw.y_train, raw.y_test]
    if any(y.dtype.kind in "OSU" for y in parts):
        parts = [y.astype(str) for y in parts]
    both = np.concatenate(parts)
    classes = _sorted_classes(both, raw.origin, raw.label_field)
    unseen = np.setdiff1d(classes, _sorted_classes(parts[0], raw.origin, raw.label_field))
    if len(unseen):
        raise SpecError(
            raw.test_origin or raw.origin,
            raw.test_label_field,
            f"class {short(str(unseen[0]))} appears only in the test labels, never in "
            f"training ({len(unseen)} such class(es): {short([str(c) for c in unseen])}); "
            "every test class must have training examples",
        )
    codes = np.searchsorted(classes, both).astype(np.int32)
    y_train, y_test = codes[: len(raw.y_train)], codes[len(raw.y_train) :]
    return y_train, y_test, tuple(str(c) for c in classes)


def _sorted_classes(y: np.ndarray, origin: str | Path, field: str) -> np.ndarray:
    try:
        return np.unique(y)
    except TypeError:
        raise SpecError(
            origin, field, "labels mix types that cannot be sorted (e.g. numbers and text)"
        ) from None
