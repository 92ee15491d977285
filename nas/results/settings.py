"""What a study was searched with, as label and text pairs for a report: where it is stored,
when it ran, the data and their split, objectives, training, constraints, and each run's
sampler, pruner, seed and budget.

The settings come from the frame of :func:`nas.results.load_trials`: its ``meaning`` (what
the trials' values depend on, recorded by the search) and ``runs`` (one record per run of
``nas search``). A study searched before those records existed shows what it has and says
what was not recorded.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from nas.metrics import label
from nas.store import artifacts_dir
from nas.urls import absolute_url, public_url

NOT_RECORDED = "not recorded (the study was searched before this was recorded)"


def study_settings(
    storage: str, study: str, frame: pd.DataFrame, now: datetime.datetime | None = None
) -> list[tuple[str, str]]:
    """``(label, text)`` rows describing ``study``'s search; ``now`` (default: the current
    local time) dates the report. Texts come from the store: escape them for HTML."""
    # Study attributes are data: anything not of the shape the search writes is ignored.
    meaning = _mapping(frame.attrs.get("meaning"))
    runs = frame.attrs.get("runs")
    runs = [run for run in runs if _is_run(run)] if isinstance(runs, list) else []
    data = {**_mapping(frame.attrs.get("dataset")), **_mapping(meaning.get("dataset"))}
    now = now or datetime.datetime.now().astimezone()
    rows = [
        ("Store", public_url(absolute_url(storage))),
        ("Weights", _weights(storage, study, runs)),
        ("Searched", _dates(frame, runs)),
        ("Report written", now.isoformat(sep=" ", timespec="seconds")),
        (
            "Data",
            f"{data.get('name', '?')} (input {tuple(data.get('input_shape', ()))}, "
            f"{data.get('num_classes', '?')} classes)",
        ),
        ("Split", _split(data)),
        (
            "Objectives",
            ", ".join(f"{d} {label(n)}" for n, d in frame.attrs.get("objectives", [])),
        ),
        ("Training", _training(_mapping(meaning.get("training")))),
        ("Constraints", _constraints(meaning.get("constraints"))),
    ]
    if not runs:
        return [*rows, ("Sampler, pruner, seed", NOT_RECORDED)]
    last = runs[-1]
    rows += [
        ("Sampler", _per_run(runs, _sampler)),
        ("Pruner", _per_run(runs, lambda r: _algorithm(r["pruner"], r.get("pruner_options")))),
        ("Seed", _per_run(runs, lambda r: str(r["seed"]))),
        ("Budget (last run)", _budget(last)),
        ("Experiment file (last run)", str(last.get("experiment", "?"))),
    ]
    return rows


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_run(run: Any) -> bool:
    return isinstance(run, dict) and {"sampler", "pruner", "seed"} <= set(run)


def _weights(storage: str, study: str, runs: Sequence[dict[str, Any]]) -> str:
    folder = Path(runs[-1]["weights"]) if runs and runs[-1].get("weights") else None
    folder = folder or artifacts_dir(storage, study).resolve()
    return str(folder) if folder.is_dir() else f"none kept (would be {folder})"


def _dates(frame: pd.DataFrame, runs: Sequence[dict[str, Any]]) -> str:
    """From the first run's start (or first trial's) to the last trial's end, local time."""
    starts = [_local(run.get("started")) for run in runs]
    if "datetime_start" in frame:
        starts += list(pd.to_datetime(frame["datetime_start"]).dropna())
    ends = list(pd.to_datetime(frame["datetime_complete"]).dropna()) if len(frame) else []
    first = min((_local(s) for s in starts if s is not None), default=None)
    last = max((_local(e) for e in ends), default=None)
    text = "no trial yet" if first is None else f"from {_shown(first)}"
    if last is not None:
        text += f" to {_shown(last)}"
    count = len(runs)
    return f"{text} ({count} run{'' if count == 1 else 's'} of nas search)" if runs else text


def _local(value: Any) -> datetime.datetime | None:
    """A stored time as an aware local one; a naive one is taken as local already (how
    Optuna keeps trial times), text as ISO 8601."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    return value.astimezone()


def _shown(moment: datetime.datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _split(data: dict[str, Any]) -> str:
    if "n_train" not in data:
        return NOT_RECORDED
    text = f"{data['n_train']:,} training, {data.get('n_val', 0):,} validation"
    if "validation_fraction" in data:
        text += (
            f" ({data['validation_fraction']:.0%} of the training data, drawn with seed "
            f"{data.get('validation_seed', '?')})"
        )
    text += f", {data.get('n_test', 0):,} test"
    if data.get("test_file"):
        text += f" (the file {data['test_file']})"
    elif data.get("test_fraction") is not None:
        text += f" ({data['test_fraction']:.0%} of the data)"
    return text + "; the test split is evaluated only for the best trials"


def _training(training: dict[str, Any] | None) -> str:
    if not training:
        return NOT_RECORDED
    fixed = [f"{key} {value}" for key, value in training.items() if key != "epochs" and value]
    epochs = training.get("epochs", "?")
    text = f"{epochs} epoch{'' if epochs == 1 else 's'}"
    return text + (f"; {', '.join(fixed)}" if fixed else "")


def _constraints(constraints: Any) -> str:
    if not isinstance(constraints, dict):
        return NOT_RECORDED
    set_ = [f"{key} {value:,}" for key, value in constraints.items() if isinstance(value, int)]
    return ", ".join(set_) or "none"


def _algorithm(name: str, options: dict[str, Any] | None, defaults: Any = None) -> str:
    shown = [f"{key} {value}" for key, value in (options or {}).items()]
    shown += [f"{key} {value} by default" for key, value in (defaults or {}).items()]
    return f"{name} ({', '.join(shown)})" if shown else name


def _sampler(run: dict[str, Any]) -> str:
    return _algorithm(run["sampler"], run.get("sampler_options"), run.get("sampler_defaults"))


def _per_run(runs: Sequence[dict[str, Any]], text: Any) -> str:
    """One value where every run had it, else each value with the runs (1-based) that did."""
    seen: dict[str, list[int]] = {}
    for i, run in enumerate(runs, start=1):
        seen.setdefault(text(run), []).append(i)
    if len(seen) == 1:
        return next(iter(seen))
    return "; ".join(
        f"{value} (run{'s' if len(r) > 1 else ''} {', '.join(map(str, r))})"
        for value, r in seen.items()
    )


def _budget(run: dict[str, Any]) -> str:
    parts = []
    if run.get("trials") is not None:
        parts.append(f"{run['trials']} trials")
    if run.get("timeout") is not None:
        parts.append(f"{run['timeout']:g} s")
    text = " or ".join(parts) or "no limit"
    return f"{text}, {run.get('workers', 1)} at a time"
