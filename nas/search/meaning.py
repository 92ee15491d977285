"""What a study's trial values mean, recorded on the study and checked on every resume.

A trial's values are comparable with another's only when both come from the same space, the
same data split the same way, the same objectives, the same training and the same
constraints. :func:`meaning_of` gathers those settings into one JSON-able record (the study
attribute ``meaning``). The seed is in it as the one that drew the validation split; the
sampler, pruner, budget and execution settings are left out on purpose: changing them on
resume changes which candidates are tried, not what a value means.

Studies made before this record existed hold only ``space``, ``objectives`` and
``dataset``: :func:`stored_meaning` reads those into a partial record, so such a study is
checked on what it recorded, and its first resume that passes records the full meaning.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import optuna

from nas.config import Experiment
from nas.data import Dataset, parse_spec
from nas.space import OPTIMIZER_ATTRS

MEANING_ATTR = "meaning"
VERSION = 1
ABSENT = object()
"""A value one record has and the other lacks (a layer added to the space, say)."""
SHOWN_CHARS = 80
"""Longer values are cut in messages: a space's layer list can run to pages."""


def meaning_of(experiment: Experiment, data: Dataset) -> dict[str, Any]:
    """The record of what ``experiment``'s trial values mean on ``data``, as stored (JSON
    types: lists, not tuples), so that it compares equal to its stored copy."""
    spec = parse_spec(experiment.dataset, source=experiment.path, base_dir=experiment.path.parent)
    searched = {OPTIMIZER_ATTRS[name] for name, _ in experiment.space.optimizer}
    fixed = experiment.training.optimizer_defaults()
    record = {
        "version": VERSION,
        "space": experiment.space.to_dict(),
        "dataset": {
            # Where the data live is not part of their meaning; their content is.
            "name": data.name,
            "label": spec.label,
            "test_file": spec.test_path.name if spec.test_path else None,
            "test_fraction": spec.test_fraction,
            "validation_fraction": experiment.validation_fraction,
            # The seed draws which examples validate (Experiment.load_data).
            "validation_seed": experiment.seed,
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "class_names": list(data.class_names),
            "n_train": len(data.x_train),
            "n_val": len(data.x_val),
            "n_test": len(data.x_test),
            # A table has no examples: its content is the package's table of that name.
            "content": content_digest(data) if spec.table is None else spec.table,
        },
        "objectives": [list(pair) for pair in experiment.objectives],
        "training": {
            "epochs": experiment.training.epochs,
            # Only the fixed values a candidate takes: the space's own draws override them.
            **{
                name: (fixed.get(name) if name not in searched else None)
                for name in ("optimizer", "learning_rate", "weight_decay", "batch_size")
            },
        },
        "constraints": {
            "max_params": experiment.constraints.max_params,
            "max_flops": experiment.constraints.max_flops,
        },
    }
    if spec.table is not None:
        # Mean and per-seed lookups give values of different meaning; the key is there only
        # for tables, so that older studies' records stay equal to the ones made now.
        record["dataset"]["lookup"] = spec.lookup
    return json.loads(json.dumps(record))


def stored_meaning(study: optuna.Study) -> dict[str, Any] | None:
    """The study's meaning record; for a study made before it existed, the part its older
    attributes hold (``None`` when it holds none, as a study just created)."""
    attrs = study.user_attrs
    if MEANING_ATTR in attrs:
        return attrs[MEANING_ATTR]
    legacy: dict[str, Any] = {}
    if isinstance(attrs.get("space"), str):
        legacy["space"] = json.loads(attrs["space"])
    if "objectives" in attrs:
        legacy["objectives"] = attrs["objectives"]
    if isinstance(attrs.get("dataset"), dict):
        legacy["dataset"] = attrs["dataset"]
    return legacy or None


def differences(study: optuna.Study, stored: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """``field: stored X, now Y`` for every setting where ``now`` differs from ``stored``.

    An older (partial) record is compared on the sections and dataset keys it holds, and on
    the study's directions where it holds no objectives.
    """
    found = []
    partial = "version" not in stored
    if partial and "objectives" not in stored:
        directions = [d.name.lower() for d in study.directions]
        wanted = [direction for _, direction in now["objectives"]]
        if directions != wanted:
            found.append(_shown("objectives", directions, wanted))
    sections = [s for s in now if s in stored or not partial]
    sections += [s for s in stored if s not in now]
    for section in sections:
        if section == "version":
            continue
        mine = now.get(section, ABSENT)
        if partial and section == "dataset" and isinstance(mine, dict):
            mine = {key: mine.get(key, ABSENT) for key in stored[section]}
        old = dict(_leaves(section, stored.get(section, ABSENT)))
        new = dict(_leaves(section, mine))
        for field in [*old, *(f for f in new if f not in old)]:
            if old.get(field, ABSENT) != new.get(field, ABSENT):
                found.append(_shown(field, old.get(field, ABSENT), new.get(field, ABSENT)))
    return found


def content_digest(data: Dataset) -> str:
    """A digest of the examples and labels, the same whatever validation split was drawn:
    training and validation examples are hashed as one set (row order ignored)."""
    train = _row_hashes(
        np.concatenate([data.x_train, data.x_val]), np.concatenate([data.y_train, data.y_val])
    )
    test = _row_hashes(data.x_test, data.y_test)
    digest = hashlib.sha256()
    for hashes in (train, test):
        digest.update(np.sort(hashes).tobytes())
        digest.update(b"|")
    return digest.hexdigest()[:16]


def _row_hashes(x: np.ndarray, y: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """One 64-bit hash per example (its feature bits and label), in row order."""
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(len(x), -1).view(np.uint32)
    weights = np.random.default_rng(0).integers(1, 2**63, size=flat.shape[1] + 1, dtype=np.uint64)
    weights |= np.uint64(1)
    out = np.empty(len(x), dtype=np.uint64)
    # Chunks bound the uint64 copy of the features; products wrap modulo 2**64 on purpose.
    for start in range(0, len(x), chunk):
        rows = flat[start : start + chunk].astype(np.uint64)
        labels = y[start : start + chunk].astype(np.uint64)
        out[start : start + chunk] = (rows * weights[:-1]).sum(axis=1) + labels * weights[-1]
    return out


def _leaves(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """``(dotted.path, value)`` for each leaf; lists of plain values are leaves, lists with
    mappings in them are indexed (``layers[0].features``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(f"{prefix}.{key}", item)
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        if all(isinstance(item, list) and not _nested(item) for item in value):
            yield prefix, value  # a list of pairs, such as the objectives
            return
        for i, item in enumerate(value):
            yield from _leaves(f"{prefix}[{i}]", item)
    else:
        yield prefix, value


def _nested(items: list) -> bool:
    return any(isinstance(item, dict | list) for item in items)


def _shown(field: str, stored: Any, now: Any) -> str:
    return f"{field}: stored {_brief(stored)}, now {_brief(now)}"


def _brief(value: Any) -> str:
    # repr, not str: text from the store is shown as data (quoted, escapes visible).
    text = "absent" if value is ABSENT else repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."
