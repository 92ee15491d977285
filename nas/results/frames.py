"""Trial dataframes for notebooks and the ranked tables of the CLI.

:func:`load_trials` gives one row per trial, in these column groups (a column is present
when some trial has a value for it):

- ``number``, ``state`` (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``, ``WAITING``);
- ``objective_<metric>`` per objective (NaN unless complete) and ``pareto`` (on the Pareto
  front of the complete trials; with one objective, the best trials);
- metrics ``val_accuracy``, ``val_loss``, ``train_loss``, ``test_accuracy``, ``test_loss``
  (test metrics only for the best trials), sizes ``n_params``, ``flops``, timings
  ``compile_seconds``, ``train_seconds``, ``eval_seconds``, ``wall_seconds``, ``epochs_run``,
  and ``device``, ``node``, ``fail_reason``, ``prune_reason``;
- the architecture: ``depth``, ``skip``, ``optimizer``, ``learning_rate``, ``weight_decay``,
  ``batch_size`` and per layer ``layer{i}_type``, ``layer{i}_features``,
  ``layer{i}_activation``, ... (every field of the layer);
- every sampled parameter as ``params_<name>`` (sorted by name);
- the remaining user attributes (``signature``, ``weights``, ``attempt``, ``architecture``,
  ...), then ``datetime_start``, ``datetime_complete``. ``weights`` is the name of the
  trial's weight file, NA where none is kept: never saved, or deleted later under the
  ``artifacts.keep_weights`` policy.

Test metrics come from the study's ``test_metrics`` attribute (Optuna does not let a finished
trial change, and the test split is evaluated after the search). Per-epoch curves (the
``curves`` attribute) come from :func:`load_curves` in long format; tracebacks stay in the
store. ``frame.attrs`` holds ``study``, ``storage``, ``objectives`` (``[name, direction]``
pairs), ``dataset`` and ``weights_dropped`` (trial number -> the keep_weights policy that
deleted its weight file, e.g. ``best_k (k=5)``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas.errors import UsageError
from nas.results.pareto import pareto_mask
from nas.store import Reader, StudyRecords, read_study, read_user_attr, study_folder_name

LEADING_ATTRS = (
    "val_accuracy",
    "val_loss",
    "train_loss",
    "test_accuracy",
    "test_loss",
    "n_params",
    "flops",
    "compile_seconds",
    "train_seconds",
    "eval_seconds",
    "wall_seconds",
    "epochs_run",
    "device",
    "node",
    "fail_reason",
    "prune_reason",
)
ARCH_COLUMNS = ("depth", "skip", "optimizer", "learning_rate", "weight_decay", "batch_size")
# Bulky attributes with views of their own (load_curves) or of no use in a table.
NOT_IN_FRAME = ("curves", "traceback")
CURVE_COLUMNS = ("number", "epoch", "metric", "value")
TABLE_FORMATS = ("csv", "parquet", "json")


def flatten_architecture(text: str | None) -> dict[str, Any]:
    """Readable columns of an architecture's JSON (empty for None, and for a stored value
    that is no architecture: the readers that build one name the trial and field)."""
    if not text:
        return {}
    try:
        arch = json.loads(text)
        row: dict[str, Any] = {"depth": len(arch["layers"]), "skip": arch["skip"]}
        for key in ARCH_COLUMNS[2:]:
            row[key] = arch[key]
        for i, layer in enumerate(arch["layers"]):
            for key, value in layer.items():
                row[f"layer{i}_{key}"] = value
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return {}
    return row


def objectives_of(records: StudyRecords) -> list[tuple[str, str]]:
    """``(metric, direction)`` per objective; ``value{i}`` names where the study has none."""
    named = records.user_attrs.get("objectives")
    if named:
        return [(str(name), str(direction)) for name, direction in named]
    return [(f"value{i}", d) for i, d in enumerate(records.directions)]


def load_trials(storage: str, study: str, *, reader: Reader = "auto") -> pd.DataFrame:
    """One row per trial, ordered by number (see the module docstring for the columns).

    ``reader`` picks how the store is read (:func:`nas.store.read_study`); every reader
    gives an equal frame. Raises ``KeyError`` for an unknown study.
    """
    records = read_study(storage, study, reader=reader, exclude=NOT_IN_FRAME)
    objectives = objectives_of(records)
    test = records.user_attrs.get("test_metrics", {})
    dropped = {int(k): v for k, v in records.user_attrs.get("weights_dropped", {}).items()}
    rows = []
    for t in records.trials:
        row: dict[str, Any] = {"number": t.number, "state": t.state}
        for (name, _), value in zip(objectives, t.values or (), strict=False):
            row[f"objective_{name}"] = value
        row.update(t.user_attrs)
        if t.number in dropped:
            # The trial's attribute still names the file; the file is gone.
            row["weights"] = None
        row.update(test.get(str(t.number), {}))
        row.update(flatten_architecture(t.user_attrs.get("architecture")))
        for name, value in t.params.items():
            row[f"params_{name}"] = value
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["number", "state"])
    frame = _nullable_dtypes(frame, rows)
    for name, _ in objectives:
        if f"objective_{name}" not in frame:
            frame[f"objective_{name}"] = np.nan
    frame["pareto"] = _pareto_column(frame, objectives)
    frame = frame[_ordered_columns(list(frame.columns), objectives)]
    frame.attrs.update(
        study=study,
        storage=storage,
        objectives=[list(o) for o in objectives],
        dataset=records.user_attrs.get("dataset", {}),
        weights_dropped=dropped,
    )
    return frame


def _nullable_dtypes(frame: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Integer and boolean columns with gaps as ``Int64``/``boolean`` rather than float and
    object, so a layer's width stays an integer where shallower trials lack the layer."""
    kinds: dict[str, set[type]] = {}
    for row in rows:
        for key, value in row.items():
            kinds.setdefault(key, set()).add(type(value))
    casts = {}
    for column, seen in kinds.items():
        if frame[column].notna().all():
            continue
        if seen == {int}:
            casts[column] = "Int64"
        elif seen == {bool}:
            casts[column] = "boolean"
    return frame.astype(casts) if casts else frame


def _pareto_column(frame: pd.DataFrame, objectives: list[tuple[str, str]]) -> np.ndarray:
    if frame.empty:
        return np.zeros(0, dtype=bool)
    done = (frame["state"] == "COMPLETE").to_numpy()
    values = frame[[f"objective_{name}" for name, _ in objectives]].to_numpy(np.float64)
    mask = np.zeros(len(frame), dtype=bool)
    mask[done] = pareto_mask(values[done], [d for _, d in objectives])
    return mask


def _ordered_columns(columns: list[str], objectives: list[tuple[str, str]]) -> list[str]:
    present = set(columns)
    head = ["number", "state", *(f"objective_{name}" for name, _ in objectives), "pareto"]
    head += [c for c in (*LEADING_ATTRS, *ARCH_COLUMNS) if c in present]
    # Layer columns keep layer order, and within a layer the order of the layer's fields.
    layers = sorted(
        (c for c in columns if c.startswith("layer") and c.split("_", 1)[0][5:].isdigit()),
        key=lambda c: int(c.split("_", 1)[0][5:]),
    )
    params = sorted(c for c in columns if c.startswith("params_"))
    tail = [c for c in ("datetime_start", "datetime_complete") if c in present]
    taken = set(head) | set(layers) | set(params) | set(tail)
    rest = sorted(c for c in columns if c not in taken)
    return [*head, *layers, *params, *rest, *tail]


def load_curves(storage: str, study: str, *, reader: Reader = "auto") -> pd.DataFrame:
    """Per-epoch learning curves in long format: columns ``number`` (trial), ``epoch``
    (1-based), ``metric`` (``train_loss``, ``val_loss``, ``val_accuracy``) and ``value``,
    sorted by trial, epoch and metric. Trials that ran no epoch are absent."""
    curves = read_user_attr(storage, study, "curves", reader=reader)
    numbers: list[int] = []
    epochs: list[int] = []
    metrics: list[str] = []
    values: list[float] = []
    for number in sorted(curves):
        for row in json.loads(curves[number]):
            epoch = int(row["epoch"])
            for metric in sorted(row):
                if metric == "epoch":
                    continue
                numbers.append(number)
                epochs.append(epoch)
                metrics.append(metric)
                values.append(float(row[metric]))
    return pd.DataFrame(
        {
            "number": pd.Series(numbers, dtype="int64"),
            "epoch": pd.Series(epochs, dtype="int64"),
            "metric": pd.Series(metrics, dtype="object"),
            "value": pd.Series(values, dtype="float64"),
        }
    )


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Complete trials first, ordered best first by the first objective (ties by number),
    then the rest by number."""
    objectives = frame.attrs.get("objectives") or []
    if frame.empty or not objectives:
        return frame
    name, direction = objectives[0]
    column = f"objective_{name}"
    done = frame[frame["state"] == "COMPLETE"].sort_values("number")
    rest = frame[frame["state"] != "COMPLETE"].sort_values("number")
    done = done.sort_values(column, ascending=direction == "minimize", kind="stable")
    return pd.concat([done, rest])


def ranked_rows(storage: str, study: str, top: int = 20) -> tuple[list[dict], list[str]]:
    """Rows for the CLI's ranked table and the columns to show."""
    frame = rank(load_trials(storage, study))
    if top:
        frame = frame.head(top)
    objectives = [f"objective_{name}" for name, _ in frame.attrs.get("objectives", [])]
    wanted = [
        "number",
        "state",
        *objectives,
        "val_accuracy",
        "test_accuracy",
        "n_params",
        "depth",
        "skip",
        "wall_seconds",
        "fail_reason",
    ]
    columns = [c for c in dict.fromkeys(wanted) if c in frame.columns]
    rows = frame[columns].astype(object).where(frame[columns].notna(), None).to_dict("records")
    return rows, columns


def write_table(storage: str, study: str, fmt: str | None, output: Path | None) -> Path:
    """Write every trial, ranked, as ``csv``, ``parquet`` or ``json`` (records, ISO dates);
    returns the path written (default ``<study>.<fmt>`` in the current folder, where a name
    that is not one plain file name is replaced by :func:`nas.store.study_folder_name`).
    ``fmt=None`` takes the format from ``output``'s suffix (``.csv``, ``.parquet``, ``.json``,
    any case).

    Raises :class:`~nas.errors.UsageError` (a ``ValueError``) for another format or suffix,
    or when neither ``fmt`` nor ``output`` is given, before reading or writing anything.
    """
    if fmt is None:
        fmt = table_format(output)
    if fmt not in TABLE_FORMATS:
        raise UsageError(f"format must be csv, parquet or json, got {fmt!r}")
    frame = rank(load_trials(storage, study))
    # The name is any text: a plain one names the file, others ("../x", "a/b") its safe form.
    plain = study[:1] not in ("", ".") and study.isprintable() and not {"/", "\\"} & set(study)
    stem = study if plain else study_folder_name(study)
    path = Path(output) if output else Path(f"{stem}.{fmt}")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", date_format="iso")
    return path


def table_format(output: Path | None) -> str:
    """The table format ``output``'s suffix names; raises :class:`~nas.errors.UsageError`
    naming the file where it names none."""
    if output is None:
        raise UsageError("give a table format (csv, parquet or json) or an output file")
    fmt = Path(output).suffix.lower().removeprefix(".")
    if fmt not in TABLE_FORMATS:
        raise UsageError(
            f"cannot tell the table format of {str(output)!r} from its suffix: "
            "name a .csv, .parquet or .json file, or give --format csv|parquet|json"
        )
    return fmt
