"""A trial of a study as a standalone Python file plus its weights.

:func:`export_trial` picks a trial (:func:`choose_trial`), writes its architecture as plain
Flax code (:mod:`nas.results.codegen`) with the study, trial, metrics and size in the docstring, and
writes the trial's trained variables as a msgpack file the generated ``load_variables``
reads. The file needs only ``jax`` and ``flax``; this toolkit is not needed to run it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax.traverse_util import flatten_dict

from nas.model import Architecture, ArchitectureError, build_model
from nas.results.codegen import module_source
from nas.results.frames import load_trials
from nas.results.pareto import knee_index
from nas.store import artifacts_dir, load_weights, weights_path
from nas.urls import public_url

PICKS = ("accuracy", "params", "knee")
# Variable collections the generated module reads; anything else in a weights file is dropped.
COLLECTIONS = ("params", "batch_stats")


class ExportError(ValueError):
    """The wanted trial cannot be exported; the message says why and what to do instead."""


@dataclass(frozen=True)
class Exported:
    """What :func:`export_trial` wrote: the module, the weights and the trial they came from."""

    model: Path
    weights: Path
    trial: int


def choose_trial(frame: pd.DataFrame, trial: str | int = "best", pick: str = "knee") -> int:
    """The number of the trial to export from a :func:`nas.results.load_trials` frame.

    ``trial``: a trial number (it must be complete), or ``"best"``: the best trial of a study
    with one objective, or, with several, the trial of the Pareto front that ``pick`` names:
    ``accuracy`` (highest validation accuracy), ``params`` (fewest parameters) or ``knee``
    (:func:`nas.results.pareto.knee_index` over the objectives). Ties go to the lowest number; with
    one objective, ``pick`` only breaks ties between equally good trials. Raises
    :class:`ExportError` when no trial qualifies and ``ValueError`` for a bad argument.
    """
    if pick not in PICKS:
        raise ValueError(f"pick must be one of {list(PICKS)}, got {pick=}")
    done = frame[frame["state"] == "COMPLETE"] if len(frame) else frame
    study = frame.attrs.get("study", "the study")
    if str(trial) != "best":
        try:
            number = int(trial)
        except ValueError:
            raise ValueError(f"trial must be 'best' or a trial number, got {trial=}") from None
        if number not in set(frame["number"]):
            raise ExportError(f"{study} has no trial {number}")
        if number not in set(done["number"]):
            state = frame.loc[frame["number"] == number, "state"].iloc[0]
            raise ExportError(f"trial {number} of {study} is {state}, not COMPLETE")
        return number
    front = done[done["pareto"]].sort_values("number")
    if front.empty:
        raise ExportError(f"{study} has no complete trial to export")
    if len(front) == 1:
        return int(front["number"].iloc[0])
    if pick == "accuracy":
        return int(front.loc[front["val_accuracy"].idxmax(), "number"])
    if pick == "params":
        return int(front.loc[front["n_params"].idxmin(), "number"])
    objectives = frame.attrs["objectives"]
    values = front[[f"objective_{name}" for name, _ in objectives]].to_numpy(np.float64)
    return int(front["number"].iloc[knee_index(values, [d for _, d in objectives])])


def export_trial(
    storage: str,
    study: str,
    output: Path,
    *,
    weights: Path | None = None,
    trial: str | int = "best",
    pick: str = "knee",
    artifacts: str | None = None,
) -> Exported:
    """Write the chosen trial (see :func:`choose_trial`) as the Python file ``output`` and its
    variables as ``weights`` (default: ``output`` with the suffix ``.msgpack``).

    ``artifacts`` overrides the weights folder (default
    :func:`nas.store.artifacts_dir` of ``storage``). Raises
    :class:`~nas.errors.UnknownStudy` (a ``KeyError``) for an unknown study, and
    :class:`ExportError` when the trial's weights were not kept (never saved, or deleted
    under the keep_weights policy: the message names the policy and the trials that kept
    theirs), are not in the folder, or do not fit its architecture.
    """
    frame = load_trials(storage, study)
    number = choose_trial(frame, trial, pick)
    row = frame[frame["number"] == number].iloc[0]
    dataset = frame.attrs.get("dataset") or {}
    if "input_shape" not in dataset or "num_classes" not in dataset:
        raise ExportError(f"{study} does not record its dataset's input shape and classes")
    try:
        arch = Architecture.from_json(row["architecture"])
    except ArchitectureError as err:
        raise err.in_trial(study, number) from None
    input_shape = tuple(int(s) for s in dataset["input_shape"])
    num_classes = int(dataset["num_classes"])

    folder = artifacts_dir(storage, study, artifacts)
    name = _weights_name(frame, row, number, study)
    if not (folder / name).exists():
        raise ExportError(
            f"the weights file {name} of trial {number} of {study} is not in {folder}; "
            "pass --artifacts FOLDER if the study's weights are elsewhere"
        )
    variables = _checked_variables(load_weights(folder, name), arch, input_shape, num_classes)

    output = Path(output)
    weights = Path(weights) if weights else output.with_suffix(".msgpack")
    source = module_source(
        arch,
        input_shape,
        num_classes,
        title=f"Trial {number} of study {study}: a network found by architecture search.",
        notes=_provenance(frame, row, storage, study),
        weights_name=weights.name,
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    weights.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(source)
    weights.write_bytes(flax.serialization.msgpack_serialize(variables))
    return Exported(model=output, weights=weights, trial=number)


def _weights_name(frame: pd.DataFrame, row: pd.Series, number: int, study: str) -> str:
    """The name of the trial's weight file; raises :class:`ExportError` saying why the
    trial kept none and which trials did, or that the stored name is not one the search
    writes (a path, another trial's file), which is never read."""
    name = row.get("weights")
    if isinstance(name, str):
        if weights_path(Path(), name, number) is None:
            raise ExportError(
                f"trial {number} of {study}: its stored weights attribute {name!r} is not "
                f"the file name the search writes (trial_{number}.msgpack); not reading it"
            )
        return name
    table = row.get("table")
    if isinstance(table, str):
        # Text from the store: shown quoted, as data.
        raise ExportError(
            f"trial {number} of {study} was looked up in the benchmark table {table!r}, not "
            "trained: it has no weights to export; train the architecture on real data to "
            "export it"
        )
    done = frame[frame["state"] == "COMPLETE"]
    kept = [
        int(r.number) for r in done.itertuples() if isinstance(getattr(r, "weights", None), str)
    ]
    dropped = frame.attrs.get("weights_dropped", {}).get(number)
    why = (
        f"were not kept under the keep_weights policy {dropped} (their file was deleted)"
        if dropped
        else "were not kept (the search saved none: artifacts.keep_weights was none)"
    )
    instead = (
        f"trials whose weights are kept: {kept}, export one with --trial N"
        if kept
        else "no trial of the study kept its weights"
    )
    raise ExportError(
        f"the weights of trial {number} of {study} {why}; {instead}; to keep every trial's "
        "weights, search again with artifacts: {keep_weights: all}"
    )


def _checked_variables(
    stored: Any, arch: Architecture, input_shape: tuple[int, ...], num_classes: int
) -> dict[str, Any]:
    """The stored variables as float32 arrays, checked leaf by leaf against the tree the
    architecture's module expects (names and shapes)."""
    model = build_model(arch, num_classes)
    x = jax.ShapeDtypeStruct((1, *input_shape), jnp.float32)
    expected = jax.eval_shape(functools.partial(model.init, train=False), jax.random.key(0), x)
    variables = {
        key: jax.tree.map(lambda a: np.asarray(a, np.float32), stored[key])
        for key in COLLECTIONS
        if key in expected
    }
    want = {k: tuple(v.shape) for k, v in flatten_dict(dict(expected)).items()}
    have = {k: tuple(v.shape) for k, v in flatten_dict(variables).items()}
    if want != have:
        missing = sorted("/".join(k) for k in set(want) - set(have))
        wrong = sorted("/".join(k) for k in set(want) & set(have) if want[k] != have[k])
        raise ExportError(
            f"the stored weights do not fit the architecture: missing {missing}, "
            f"wrong shape {wrong}"
        )
    return variables


def _provenance(frame: pd.DataFrame, row: pd.Series, storage: str, study: str) -> list[str]:
    """Docstring paragraphs: where the trial comes from, how it scored, its size."""
    dataset = frame.attrs.get("dataset") or {}
    objectives = ", ".join(f"{name} ({direction})" for name, direction in frame.attrs["objectives"])
    arch = Architecture.from_json(row["architecture"])
    done = int((frame["state"] == "COMPLETE").sum())
    scores = [
        f"{label} {row[key]:.4f}"
        for label, key in (
            ("validation accuracy", "val_accuracy"),
            ("validation loss", "val_loss"),
            ("test accuracy", "test_accuracy"),
            ("test loss", "test_loss"),
        )
        if key in row and _present(row[key])
    ]
    paragraphs = [
        f"Study {study} in {public_url(storage)}: trial {int(row['number'])} of {done} "
        f"complete trials, searched for {objectives}.",
        f"Data: {dataset.get('name', '?')}, input {tuple(dataset.get('input_shape', ()))}, "
        f"{dataset.get('num_classes', '?')} classes.",
    ]
    if scores:
        paragraphs.append("Scores: " + ", ".join(scores) + ".")
    size = f"Parameters: {int(row['n_params']):,}."
    if "flops" in row and _present(row["flops"]):
        size += f" Forward FLOPs per example: {int(row['flops']):,}."
    paragraphs.append(size)
    epochs = f" for {int(row['epochs_run'])} epochs" if _present(row.get("epochs_run")) else ""
    paragraphs.append(
        f"Trained with {arch.optimizer}, learning rate {arch.learning_rate:.3g}, weight decay "
        f"{arch.weight_decay:.3g}, batch size {arch.batch_size}{epochs}."
    )
    return paragraphs


def _present(value: Any) -> bool:
    return value is not None and not pd.isna(value)
