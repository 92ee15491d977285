"""Tables of trials as text: how a value reads in a cell (the same in the terminal and the
report), and which columns a ranked table of trials offers, each with how much it is worth
its room, so a narrow terminal shows the few that matter and a wide one shows more."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nas.metrics import short_label
from nas.model import Architecture, ArchitectureError
from nas.model import short_label as architecture_label
from nas.results.frames import rank


def format_cell(value: Any) -> str:
    """A cell's text: empty for a missing value, ``yes`` or empty for a flag, integers whole
    with thousands separators, other numbers to four significant digits (whole from 1,000
    up), anything else as its ``str``."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


ALWAYS = 0
"""The priority of a column every layout shows."""


@dataclass(frozen=True)
class Column:
    """One column of a trials table: the row key, its header, whether it holds free text
    (left-aligned, the one kind of cell a narrow layout may wrap), and its priority:
    :data:`ALWAYS`, or the order in which further columns are given room (1 first)."""

    key: str
    header: str
    priority: int = ALWAYS
    text: bool = False


@dataclass(frozen=True)
class TrialsTable:
    """A ranked table of trials as text: ``rows`` map column keys to cell text (every
    column's key is in every row), ``columns`` are in the order they are shown."""

    title: str
    columns: list[Column]
    rows: list[dict[str, str]]

    def shown(self, limit: int | None = None) -> list[Column]:
        """The columns of priority up to ``limit`` (all with ``None``), in order."""
        return [c for c in self.columns if limit is None or c.priority <= limit]


# The default table's columns after the objectives, in the order shown; those with a
# priority get room as the layout allows, 1 first.
ORDER = (
    "pareto",
    "n_params",
    "test_accuracy",
    "val_accuracy",
    "learning_rate",
    "wall_seconds",
    "epochs_run",
    "flops",
    "architecture",
    "note",
)
PRIORITY = {
    "pareto": 1,
    "test_accuracy": 2,
    "val_accuracy": 3,
    "learning_rate": 4,
    "wall_seconds": 5,
    "epochs_run": 6,
    "flops": 7,
    "note": 8,
}
# Columns only ``--wide`` adds: the rest of a trial's metrics, timings and architecture.
WIDE = (
    "depth",
    "skip",
    "optimizer",
    "weight_decay",
    "batch_size",
    "val_loss",
    "train_loss",
    "test_loss",
    "compile_seconds",
    "train_seconds",
    "eval_seconds",
    "device",
    "node",
    "weights",
)
HEADERS = {
    "rank": "#",
    "number": "trial",
    "pareto": "front",
    "learning_rate": "lr",
    "epochs_run": "epochs",
    "weight_decay": "wd",
    "batch_size": "batch",
}
TEXT = ("architecture", "note", "state", "skip", "optimizer", "device", "node", "weights")
REQUIRED = ("rank", "number", "state", "n_params", "architecture")


def trials_table(
    frame: pd.DataFrame, title: str, *, top: int = 20, wide: bool = False
) -> TrialsTable:
    """The ranked table of a :func:`nas.results.load_trials` frame: the ``top`` rows (all
    with 0), best first; ``rank`` numbers the complete ones.

    Every layout shows the rank, trial number, state (only where a shown trial is not
    complete), objectives, parameter count and a short architecture label
    (:func:`nas.model.short_label`); then, as room allows (their priority), Pareto
    membership (several objectives), test and validation accuracy, learning rate, seconds
    per trial, epochs run (where they differ), FLOPs and the failure or pruning reason.
    ``wide`` shows all of those and the rest of each trial's metrics, timings and
    architecture fields, every one at priority :data:`ALWAYS`. Optional columns no shown
    row has a value for are left out.

    Raises :class:`~nas.errors.UserError` naming the trial where a stored architecture is
    not one.
    """
    shown = rank(frame)
    if top:
        shown = shown.head(top)
    names = [name for name, _ in frame.attrs.get("objectives", [])]
    study = str(frame.attrs.get("study", "?"))
    rows = [_row(record, i, study) for i, record in enumerate(_records(shown))]
    keys = ["rank", "number"]
    if any(row["state"] != "COMPLETE" for row in rows):
        keys.append("state")
    keys += [f"objective_{name}" for name in names]
    keys += [k for k in ORDER if k not in names and (k != "pareto" or len(names) > 1)]
    keys += WIDE if wide else ()
    columns = []
    for key in keys:
        cells = [format_cell(row.get(key)) for row in rows]
        required = key in REQUIRED or key.startswith("objective_")
        if not required and not any(cells):
            continue
        if key == "epochs_run" and len(set(cells) - {""}) == 1:
            continue  # every trial ran every epoch: nothing to tell
        level = ALWAYS if wide or key not in PRIORITY else PRIORITY[key]
        columns.append(Column(key, _header(key), level, text=key in TEXT))
    cells = [{c.key: format_cell(row.get(c.key)) for c in columns} for row in rows]
    return TrialsTable(title, columns, cells)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _row(record: dict[str, Any], index: int, study: str) -> dict[str, Any]:
    """A frame row (``index`` in rank order) with the table's own keys: rank, note, the
    architecture's label."""
    row = dict(record)
    # Ranked frames hold the complete trials first.
    row["rank"] = index + 1 if record["state"] == "COMPLETE" else None
    text = record.get("architecture")
    try:
        row["architecture"] = architecture_label(Architecture.from_json(text)) if text else ""
    except ArchitectureError as err:
        raise err.in_trial(study, int(record["number"])) from None
    row["note"] = record.get("fail_reason") or record.get("prune_reason")
    return row


def _header(key: str) -> str:
    if key in HEADERS:
        return HEADERS[key]
    return short_label(key.removeprefix("objective_"))
