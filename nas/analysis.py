"""Trial dataframes for notebooks and the ranked tables of the CLI.

``load_trials(storage, study)``: one row per trial with its number, state, objective values
(named after their metrics), every sampled parameter (``params_<name>``), the architecture
flattened into readable columns (``depth``, ``skip``, ``layer{i}_type``, ``layer{i}_features``,
...), metrics, sizes, timings, device/node and failure reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from optuna.trial import TrialState

from nas.store import load_study

ATTR_COLUMNS = (
    "val_accuracy",
    "val_loss",
    "train_loss",
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
    "attempt",
    "signature",
    "weights",
    "architecture",
)


def flatten_architecture(text: str | None) -> dict[str, Any]:
    """Readable columns of an architecture's JSON (empty for None)."""
    if not text:
        return {}
    arch = json.loads(text)
    row: dict[str, Any] = {"depth": len(arch["layers"]), "skip": arch["skip"]}
    for key in ("optimizer", "learning_rate", "weight_decay", "batch_size"):
        row[key] = arch[key]
    for i, layer in enumerate(arch["layers"]):
        for key, value in layer.items():
            row[f"layer{i}_{key}"] = value
    return row


def load_trials(storage: str, study: str) -> pd.DataFrame:
    """One row per trial (see the module docstring); raises ``KeyError`` for an unknown study."""
    st = load_study(storage, study)
    objectives = [name for name, _ in st.user_attrs.get("objectives", [])] or [
        f"value{i}" for i in range(len(st.directions))
    ]
    test = st.user_attrs.get("test_metrics", {})
    rows = []
    for t in st.get_trials(deepcopy=False):
        row: dict[str, Any] = {"number": t.number, "state": t.state.name}
        if t.values is not None:
            for name, value in zip(objectives, t.values, strict=True):
                row[f"objective_{name}"] = value
        for name in ATTR_COLUMNS:
            if name in t.user_attrs:
                row[name] = t.user_attrs[name]
        row.update(test.get(str(t.number), {}))
        row.update(flatten_architecture(t.user_attrs.get("architecture")))
        for name, value in t.params.items():
            row[f"params_{name}"] = value
        row["datetime_start"] = t.datetime_start
        row["datetime_complete"] = t.datetime_complete
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["objectives"] = st.user_attrs.get("objectives", [])
    return frame


def rank(frame: pd.DataFrame) -> pd.DataFrame:
    """Complete trials first, ordered best first by the first objective, then the rest."""
    objectives = frame.attrs.get("objectives") or []
    if frame.empty or not objectives:
        return frame
    name, direction = objectives[0]
    column = f"objective_{name}"
    done = frame[frame["state"] == TrialState.COMPLETE.name]
    rest = frame[frame["state"] != TrialState.COMPLETE.name]
    if column in done:
        done = done.sort_values(column, ascending=direction == "minimize", kind="stable")
    return pd.concat([done, rest.sort_values("number")])


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


def write_table(storage: str, study: str, fmt: str, output: Path | None) -> Path:
    """Write every trial, ranked, as csv, parquet or json; returns the path written."""
    frame = rank(load_trials(storage, study))
    path = Path(output) if output else Path(f"{study}.{fmt}")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", date_format="iso")
    return path
