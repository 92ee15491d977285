"""Classification data as arrays in the view a search space needs.

A dataset spec is a built-in name (``digits``, ``mnist1d``, ``synthetic``, ``shapes32``) or a
mapping: ``{name: digits}``, ``{path: data.npz}`` or ``{path: train.csv, label: target,
test_path: test.csv, test_fraction: 0.2}`` (the same for ``.parquet``). :func:`load_dataset`
turns it into a :class:`Dataset` in one *view*: ``flat`` ``(N, D)``, ``sequence``
``(N, T, C)`` or ``image`` ``(N, H, W, C)``.

Data without its own test split gets one drawn with the fixed seed
:data:`~nas.data.splits.TEST_SEED`, and the validation split is drawn from the training part
only, so the test examples never depend on the search seed. Every problem with the spec or the
data raises :class:`~nas.errors.SpecError`: problems with the spec point at ``source`` and a
``dataset...`` field, problems inside a data file point at that file and the key or column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nas.checks import short
from nas.data.labels import encode_labels
from nas.data.raw import KINDS, Shape, frozen
from nas.data.specs import is_fraction, parse_spec, read_spec
from nas.data.splits import stratified_split
from nas.data.tables import TABLES
from nas.errors import SpecError


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train/validation/test arrays of one classification problem in one view.

    Features are read-only ``float32`` arrays with the batch axis first; labels are read-only
    ``int32`` arrays in ``0..num_classes-1``. ``class_names[k]`` is the original label (as a
    string) of class ``k``; classes are numbered in the sorted order of the originals.
    ``x_train``/``y_train`` is what remains of the training data after the validation split.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> Shape:
        """Shape of one example (no batch axis)."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, train={len(self.y_train)}, "
            f"val={len(self.y_val)}, test={len(self.y_test)})"
        )


def load_dataset(
    spec: str | Mapping[str, Any],
    *,
    kind: str,
    val_fraction: float = 0.2,
    seed: int = 0,
    source: str | Path = "<dataset>",
    base_dir: Path | None = None,
) -> Dataset:
    """Load ``spec`` in the view ``kind`` with a stratified validation split drawn with ``seed``.

    ``val_fraction`` (in (0, 1)) of the training data, per class, becomes the validation set;
    the test set is unaffected by ``seed`` and ``val_fraction``. Relative paths in ``spec``
    resolve against ``base_dir`` (default: the working directory). Built-in data are generated
    once per process. Raises ``ValueError`` for an unknown ``kind`` (a caller's bug) and
    :class:`SpecError` for every problem with the spec or the data.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if not is_fraction(val_fraction):
        raise SpecError(
            source, "validation_fraction", f"must be a number in (0, 1), got {short(val_fraction)}"
        )
    parsed = parse_spec(spec, source=source, base_dir=base_dir)
    if parsed.table is not None:
        return table_dataset(parsed.table, kind, source)
    raw = read_spec(parsed, source)
    if kind not in raw.views:
        offered = ", ".join(f"{k} {shape}" for k, shape in raw.views.items())
        raise SpecError(
            source,
            "dataset",
            f"{raw.name} cannot be viewed as {kind} input (it offers: {offered}); "
            f"pick a search space whose input is one of these",
        )
    y_train, y_test, class_names = encode_labels(raw)
    train, val = stratified_split(y_train, val_fraction, seed)
    if len(val) == 0:
        raise SpecError(
            source,
            "validation_fraction",
            f"{val_fraction} of {len(y_train)} training examples leaves no validation examples",
        )
    shape = raw.views[kind]

    def view(x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        x = x if rows is None else x[rows]
        return frozen(x.reshape(len(x), *shape).astype(np.float32))

    return Dataset(
        name=raw.name,
        x_train=view(raw.x_train, train),
        y_train=frozen(y_train[train]),
        x_val=view(raw.x_train, val),
        y_val=frozen(y_train[val]),
        x_test=view(raw.x_test),
        y_test=frozen(y_test),
        num_classes=len(class_names),
        class_names=class_names,
    )


def table_dataset(name: str, kind: str, source: str | Path) -> Dataset:
    """The stand-in :class:`Dataset` of benchmark table ``name`` (:mod:`nas.data.tables`): no
    examples, only the shape of one image and the classes of the data the table's networks
    were trained on, so that a candidate's size can be counted. Only an ``image`` space
    reads it (:class:`SpecError` otherwise)."""
    info = TABLES[name]
    if kind != "image":
        raise SpecError(
            source,
            "dataset",
            f"{name} is a table of image networks (input {info.input_shape}); pick an image "
            f"space (search_spaces/nb201.yaml), not a {kind} one",
        )
    x, y = frozen(np.zeros((0, *info.input_shape), np.float32)), frozen(np.zeros(0, np.int32))
    return Dataset(
        name=name,
        x_train=x,
        y_train=y,
        x_val=x,
        y_val=y,
        x_test=x,
        y_test=y,
        num_classes=info.num_classes,
        class_names=tuple(str(k) for k in range(info.num_classes)),
    )
