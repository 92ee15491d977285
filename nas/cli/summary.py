"""The end of a search: where its results are, its best trial in one line, and the commands
to run next, with the study and store filled in so they can be pasted as they are."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from nas.cli.console import plain
from nas.metrics import short_label
from nas.model import Architecture, ArchitectureError
from nas.model import short_label as architecture_label
from nas.results import ExportError, choose_trial, format_cell
from nas.store import artifacts_dir
from nas.urls import absolute_url, public_url

FRONT_SHOWN = 10
"""Trials of the Pareto front named in the closing lines; the table lists them."""


def outcome_lines(experiment: Any, frame: pd.DataFrame) -> list[str]:
    """The lines that close a search of ``experiment`` whose study's trials are ``frame``
    (:func:`nas.results.load_trials`): the store (absolute, password masked) and weights
    folder, the best trial (with several objectives, the Pareto front's knee, which
    ``nas export`` takes by default), and the ``nas trials``, ``nas report`` and
    ``nas export`` commands for this study. Text from the store is returned unescaped:
    print each line through :func:`nas.cli.console.plain`."""
    store = public_url(absolute_url(experiment.storage))
    done = int((frame["state"] == "COMPLETE").sum()) if len(frame) else 0
    lines = [f"results: {store} (study {experiment.study}, {len(frame)} trials, {done} complete)"]
    folder = artifacts_dir(experiment.storage, experiment.study, experiment.artifacts.dir)
    if folder.is_dir():
        lines.append(f"weights: {folder.resolve()}")
    where = ["--storage", store]
    lines += [f"best: {best_line(frame)}", *_front_line(frame)]
    table = experiment.data_spec.table
    if table is not None:
        lines.append(
            f"test: none: candidates were looked up in {table}, and what is reported is its "
            "validation accuracy (no test split is used; nothing was trained)"
        )
    commands = [
        ["nas", "trials", experiment.study, *where],
        ["nas", "report", experiment.study, *where, "--output", "report/"],
    ]
    if _exportable(frame):
        export = ["nas", "export", experiment.study, *where, "--output", "model.py"]
        if experiment.artifacts.dir:
            export += ["--artifacts", str(Path(experiment.artifacts.dir).resolve())]
        commands.append(export)
    lines.append("next:")
    lines += [f"  {shlex.join(command)}" for command in commands]
    if done and len(commands) < 3:
        why = (
            "the best trial is a table lookup, with no trained weights"
            if table
            else "the best trial's weights were not kept"
        )
        lines.append(f"  (no nas export: {why})")
    return lines


def best_line(frame: pd.DataFrame) -> str:
    """The best trial in one line: number, objectives, parameters, test accuracy where the
    search measured it, and a short architecture label (``no trial completed`` where none
    did)."""
    try:
        number = choose_trial(frame)
    except ExportError:
        return "no trial completed"
    row = frame[frame["number"] == number].iloc[0]
    objectives = [name for name, _ in frame.attrs.get("objectives", [])]
    parts = [f"trial {number}"]
    keys = [f"objective_{name}" for name in objectives]
    keys += [k for k in ("n_params", "test_accuracy") if k not in objectives]
    for key in keys:
        if key in row and not pd.isna(row[key]):
            parts.append(f"{short_label(key.removeprefix('objective_'))} {format_cell(row[key])}")
    text = row.get("architecture")
    try:
        parts.append(architecture_label(Architecture.from_json(text)))
    except ArchitectureError as err:
        raise err.in_trial(str(frame.attrs.get("study", "?")), number) from None
    return " · ".join(parts)


def _front_line(frame: pd.DataFrame) -> list[str]:
    """With several objectives, which trials the best one was picked from."""
    if len(frame.attrs.get("objectives", [])) < 2 or not frame["pareto"].any():
        return []
    numbers = sorted(int(n) for n in frame.loc[frame["pareto"], "number"])
    shown = ", ".join(str(n) for n in numbers[:FRONT_SHOWN])
    more = f" and {len(numbers) - FRONT_SHOWN} more" if len(numbers) > FRONT_SHOWN else ""
    return [f"      the knee of the Pareto front of {len(numbers)}: trials {shown}{more}"]


def print_outcome(console: Console, experiment: Any, frame: pd.DataFrame) -> None:
    """Print :func:`outcome_lines` as text; a command is never broken in two (a terminal
    may still show it folded), and off a terminal no line is."""
    for line in outcome_lines(experiment, frame):
        command = line.startswith("  nas ")
        console.print(plain(line), soft_wrap=command or not console.is_terminal)


def _exportable(frame: pd.DataFrame) -> bool:
    """Whether ``nas export`` with its defaults would find a trial with weights."""
    try:
        number = choose_trial(frame)
    except ExportError:
        return False
    if "weights" not in frame:
        return False
    return not pd.isna(frame.loc[frame["number"] == number, "weights"].iloc[0])
