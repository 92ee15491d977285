"""The experiment file: everything one search needs, checked when the file is loaded.

:func:`load_experiment` reads the YAML file, applies command-line overrides
(:mod:`nas.config.overrides`), checks every field's type, range and allowed values, loads the
search space it names and checks the rules tying sampler, pruner, objectives and space
together (:mod:`nas.config.rules`). The data are not read then, so loading a file stays cheap;
:meth:`~nas.config.schema.Experiment.load_data` reads them in the view the space needs and
checks the space against them. Optuna is not imported here: whether it accepts the sampler's
and pruner's options is checked by :func:`nas.search.experiment.load_experiment`. Every
problem raises :class:`~nas.errors.SpecError` naming the file (``command line`` for a bad
override, ``environment`` for a bad ``RAY_ADDRESS``), the field path (``training.epochs``,
``--trials``) and the problem.

Format (paths relative to the file's folder; defaults in brackets)::

    study: NAME                     # required: the Optuna study name
    space: FILE                     # required: the search space file
    dataset: SPEC                   # required: see nas.data.datasets; nb201/... is a
                                    # benchmark table (nas.data.tables): candidates of
                                    # search_spaces/nb201.yaml are looked up, not trained
    validation_fraction: F          # in (0, 1) [0.2]
    training: {epochs: N, eval_batch_size: N [512],
               optimizer, learning_rate, weight_decay, batch_size}   # fixed values, optional
                                    # (required, but left out with a benchmark table)
    objectives: {METRIC: maximize|minimize, ...}   # in order; METRIC in nas.metrics.OBJECTIVES
    constraints: {max_params: N, max_flops: N}     # optional hard limits
    sampler: NAME | {name: NAME, OPTION: VALUE}    # SAMPLERS [tpe]; options:
             # evolution: population [20] >= 2, tournament [population // 2, >= 2] <= population
             # local_search: restarts >= 0 [unbounded]; other samplers: Optuna's arguments
    pruner: NAME | {name: NAME, OPTION: VALUE}     # PRUNERS [none]; one per-epoch objective,
             # or mo_asha with several: eta [3] >= 2, min_epochs [1] >= 1, < training.epochs
    trials: N                       # finished trials wanted; and/or
    timeout: SECONDS
    seed: N                         # [0]
    storage: URL | FILE.log | FILE.jsonl           # [sqlite:///nas.db]
    execution: {workers [1], cpus_per_trial [1], gpus_per_trial [0], retries [1],
                trial_timeout, address, lookahead [1], retrain_duplicates [false]}
    artifacts: {keep_weights: all|best_k|none [best_k], k [5], dir}
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nas.checks import did_you_mean, key_text
from nas.config.fields import Check, brief
from nas.config.overrides import apply_overrides, environment_address
from nas.config.rules import check_rules, check_table_rules
from nas.config.schema import (
    ARTIFACT_KEYS,
    CONSTRAINT_KEYS,
    EXECUTION_KEYS,
    KEEP_WEIGHTS,
    MAX_SEED,
    PRUNERS,
    SAMPLERS,
    TOP_KEYS,
    TRAINING_KEYS,
    ArtifactsSection,
    Constraints,
    ExecutionSection,
    Experiment,
    TrainingSection,
)
from nas.data import parse_spec
from nas.errors import Problems, SpecError
from nas.metrics import DIRECTIONS, OBJECTIVES
from nas.model import OPTIMIZERS
from nas.space import load_space
from nas.urls import DEFAULT_STORAGE
from nas.yamlio import load_yaml

# What a part of the file that failed its check stands for while the others are checked.
FAILED = object()


def load_experiment(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """Load and check the experiment file at ``path``, and the space file it names.

    ``overrides`` (from command-line flags) replace file values; keys are ``trials``,
    ``timeout``, ``storage``, ``study``, ``seed``, ``workers`` and ``address``, and ``None``
    values are ignored. Where neither names a cluster, ``RAY_ADDRESS`` is checked too.
    Raises :class:`SpecError` on any problem in the file, in an override (source ``command
    line``, field ``--name``), in ``RAY_ADDRESS`` (source ``environment``) or in the space
    file; ``ValueError`` on an unknown override key (a caller's bug). Whether Optuna accepts
    the sampler's and pruner's options is left to :mod:`nas.search.experiment`.
    """
    path = Path(path)
    check = Check(path)
    data = load_yaml(path)
    if not isinstance(data, Mapping):
        raise SpecError(path, "", f"must be a mapping of fields, got {brief(data)}")
    # Independent fields are checked apart, so every mistake in them is named at once.
    problems = Problems()

    def part(read: Callable[[], Any]) -> Any:
        """``read()``, or :data:`FAILED` with its problems kept."""
        with problems.check():
            return read()
        return FAILED

    part(lambda: check.keys(data, "", TOP_KEYS))
    execution = part(lambda: check.keys(_section(data, "execution"), "execution", EXECUTION_KEYS))
    data, execution_data = apply_overrides(
        data, {} if execution is FAILED else execution, overrides
    )
    study = part(
        lambda: check.text(check.required(data, "study", "the Optuna study name"), "study")
    )
    space_path = part(
        lambda: _space_path(check.required(data, "space", "the search space file"), check)
    )
    dataset = part(lambda: check.required(data, "dataset", "a built-in name or {path: <file>}"))
    spec = FAILED
    if dataset is not FAILED:
        spec = part(lambda: parse_spec(dataset, source=path, base_dir=path.parent))
    values = {
        "validation_fraction": lambda: check.number(
            data.get("validation_fraction", 0.2), "validation_fraction", 0, high=1, open_=True
        ),
        "training": lambda: _training_of(data, spec, check),
        "objectives": lambda: _objectives(
            check.required(data, "objectives", "metric: direction"), check
        ),
        "constraints": lambda: _constraints(_section(data, "constraints"), check),
        "sampler": lambda: _algorithm(data.get("sampler", "tpe"), check, "sampler", SAMPLERS),
        "pruner": lambda: _algorithm(data.get("pruner", "none"), check, "pruner", PRUNERS),
        "trials": lambda: check.integer(data.get("trials"), "trials", 1, optional=True),
        "timeout": lambda: check.number(
            data.get("timeout"), "timeout", 0, open_=True, optional=True
        ),
        "seed": lambda: check.integer(data.get("seed", 0), "seed", 0, MAX_SEED),
        "storage": lambda: check.storage(data.get("storage", DEFAULT_STORAGE), "storage"),
        "artifacts": lambda: _artifacts(_section(data, "artifacts"), check),
    }
    fields = {name: part(read) for name, read in values.items()}
    if execution is not FAILED:
        fields["execution"] = part(lambda: _execution(execution_data, check))
    if fields["trials"] is None and fields["timeout"] is None:
        problems.add(SpecError(path, "trials", "give trials, timeout or both to say when to stop"))
    space = FAILED
    if space_path is not FAILED:
        # The space file's own problems join the experiment's, each naming its file.
        space = part(lambda: load_space(space_path))
    problems.raise_any()
    # A table's own rules first: with a table there are no epochs to prune at.
    check_table_rules(spec, fields["pruner"], fields["objectives"], space, path)
    check_rules(
        fields["sampler"],
        fields["pruner"],
        fields["objectives"],
        space,
        path,
        epochs=fields["training"].epochs,
    )
    return Experiment(
        path=path, study=study, space_path=space_path, space=space, dataset=dataset, **fields
    )


# --- sections ----------------------------------------------------------------------------


def _space_path(value: Any, check: Check) -> Path:
    text = check.text(value, "space")
    space_path = Path(os.path.normpath(Path(check.source).parent / Path(text).expanduser()))
    try:
        is_dir, is_file = space_path.is_dir(), space_path.is_file()
    except OSError as err:  # e.g. a name longer than the file system allows
        raise check.fail("space", f"cannot be a file: {err.strerror}") from None
    if is_dir:
        raise check.fail("space", f"is a folder, not a file: {space_path}")
    if not is_file:
        raise check.fail("space", f"file not found: {space_path}")
    return space_path


def _training(value: Any, check: Check) -> TrainingSection:
    data = check.keys(value, "training", TRAINING_KEYS)
    epochs = check.required(data, "epochs", "an integer >= 1", "training.")
    return TrainingSection(
        epochs=check.integer(epochs, "training.epochs", 1),
        eval_batch_size=check.integer(
            data.get("eval_batch_size", 512), "training.eval_batch_size", 1
        ),
        optimizer=check.choice(
            data.get("optimizer"), "training.optimizer", OPTIMIZERS, optional=True
        ),
        learning_rate=check.number(
            data.get("learning_rate"), "training.learning_rate", 0, open_=True, optional=True
        ),
        weight_decay=check.number(
            data.get("weight_decay"), "training.weight_decay", 0, optional=True
        ),
        batch_size=check.integer(data.get("batch_size"), "training.batch_size", 1, optional=True),
    )


def _training_of(data: Mapping[str, Any], spec: Any, check: Check) -> TrainingSection:
    """The ``training`` section; a search looked up in a benchmark table trains nothing, so
    there it is left out (and refused if given)."""
    if spec is FAILED or spec.table is None:
        return _training(check.required(data, "training", "a mapping with epochs"), check)
    if "training" in data:
        raise check.fail(
            "training",
            f"{spec.table} is a benchmark table: candidates are looked up, not trained "
            "(its values are of 200 epochs); leave training out",
        )
    return TrainingSection(epochs=1)


def _objectives(value: Any, check: Check) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not value:
        raise check.fail(
            "objectives",
            f"must be a non-empty mapping of metric to maximize|minimize, got {brief(value)}",
        )
    pairs = []
    for metric, direction in value.items():
        field = f"objectives.{key_text(metric)}"
        if metric not in OBJECTIVES:
            raise check.fail(
                field,
                f"unknown metric; expected one of {list(OBJECTIVES)}"
                + did_you_mean(metric, OBJECTIVES),
            )
        pairs.append((metric, check.choice(direction, field, DIRECTIONS)))
    return tuple(pairs)


def _algorithm(
    value: Any, check: Check, field: str, names: tuple[str, ...]
) -> tuple[str, dict[str, Any]]:
    """``name`` or ``{name: ..., **options}`` -> ``(name, options)``."""
    if isinstance(value, str):
        return check.choice(value, field, names), {}
    if not isinstance(value, Mapping):
        raise check.fail(
            field, f"must be a name or a mapping with 'name' and options, got {brief(value)}"
        )
    options = dict(value)
    check.required(options, "name", f"one of {', '.join(names)}", f"{field}.")
    name = check.choice(options.pop("name"), f"{field}.name", names)
    for key in options:
        if not isinstance(key, str):
            raise check.fail(field, f"option names must be text, got {brief(key)}")
    if "seed" in options:
        raise check.fail(f"{field}.seed", "set the top-level seed instead")
    return name, options


def _constraints(value: Any, check: Check) -> Constraints:
    data = check.keys(value, "constraints", CONSTRAINT_KEYS)
    return Constraints(
        **{
            key: check.integer(data.get(key), f"constraints.{key}", 1, optional=True)
            for key in CONSTRAINT_KEYS
        }
    )


def _execution(data: Mapping[str, Any], check: Check) -> ExecutionSection:
    if data.get("address") is None:
        # Where neither the file nor a flag names a cluster, RAY_ADDRESS does (at run time,
        # through ray_address); a bad one is caught now.
        environment_address()
    return ExecutionSection(
        workers=check.integer(data.get("workers", 1), "execution.workers", 1),
        cpus_per_trial=check.number(
            data.get("cpus_per_trial", 1), "execution.cpus_per_trial", 0, open_=True
        ),
        gpus_per_trial=check.number(data.get("gpus_per_trial", 0), "execution.gpus_per_trial", 0),
        retries=check.integer(data.get("retries", 1), "execution.retries", 0),
        trial_timeout=check.number(
            data.get("trial_timeout"), "execution.trial_timeout", 0, open_=True, optional=True
        ),
        address=check.address(data.get("address"), "execution.address", optional=True),
        lookahead=check.integer(data.get("lookahead", 1), "execution.lookahead", 0, 8),
        retrain_duplicates=_boolean(
            data.get("retrain_duplicates", False), "execution.retrain_duplicates", check
        ),
    )


def _boolean(value: Any, field: str, check: Check) -> bool:
    """``value`` if it is a YAML boolean (true/false, or YAML 1.1's yes/no/on/off)."""
    if not isinstance(value, bool):
        raise check.fail(field, f"must be true or false, got {brief(value)}")
    return value


def _artifacts(value: Any, check: Check) -> ArtifactsSection:
    data = check.keys(value, "artifacts", ARTIFACT_KEYS)
    return ArtifactsSection(
        keep_weights=check.choice(
            data.get("keep_weights", "best_k"), "artifacts.keep_weights", KEEP_WEIGHTS
        ),
        k=check.integer(data.get("k", 5), "artifacts.k", 1),
        dir=check.text(data.get("dir"), "artifacts.dir", optional=True),
    )


def _section(data: Mapping[str, Any], key: str) -> Any:
    """An optional section; left out or left empty (``key:`` alone) means all defaults."""
    value = data.get(key)
    return {} if value is None else value
