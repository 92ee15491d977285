"""The study a search writes: created or resumed, checked against the experiment."""

from __future__ import annotations

import datetime
import json
import warnings
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.config import Experiment
from nas.data import Dataset
from nas.errors import SpecError
from nas.search.algorithms import RANDOM_START, make_pruner, make_sampler
from nas.search.meaning import MEANING_ATTR, differences, meaning_of, stored_meaning
from nas.store import artifacts_dir, open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
RUNS_ATTR = "runs"
KEPT_RUNS = 50


def counted_trials(study: optuna.Study) -> int:
    """Finished trials that count towards the budget (rejections and re-queued ones do not)."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(1 for t in trials if t.user_attrs.get("counts", True))


def running_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's running trials, of every driver."""
    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def open_search_study(experiment: Experiment, data: Dataset) -> optuna.Study:
    """Create or load the experiment's study, with the experiment's sampler and pruner.

    A new study records what its trial values mean (:mod:`nas.search.meaning`), its space,
    objectives and experiment file, and every study the objectives' names as Optuna's
    metric names (:func:`name_metrics`). An existing one is checked first, before anything is
    written to it: :class:`SpecError` names every setting that differs from what the study
    recorded (stored and now) and the way out, ``--study NEW``. A study made before the
    meaning record existed is checked on what it recorded, and then records the full one.
    Every run that passes the check appends what it was asked to do (:func:`record_run`).
    """
    storage = open_storage(experiment.storage)
    directions = [direction for _, direction in experiment.objectives]
    sampler_name, sampler_options = experiment.sampler
    pruner_name, pruner_options = experiment.pruner
    # Loading an existing study writes nothing; only a new one is created here.
    study = optuna.create_study(
        study_name=experiment.study,
        storage=storage,
        directions=directions,
        sampler=make_sampler(sampler_name, sampler_options, experiment.seed),
        pruner=make_pruner(
            pruner_name, pruner_options, experiment.training.epochs, experiment.objectives
        ),
        load_if_exists=True,
    )
    meaning = meaning_of(experiment, data)
    stored = stored_meaning(study)
    # With no record at all, the study's directions are still compared.
    found = differences(study, stored or {}, meaning)
    if found:
        space = any(f.startswith("space") for f in found)
        made = "from a different search space" if space else "with different settings"
        raise SpecError(
            experiment.path,
            "",
            f"study {experiment.study!r} was made {made}, so its trials would not compare "
            f"with new ones: {'; '.join(found)}; resume it with the stored settings, or "
            "start a new study with --study NEW",
        )
    if stored is None or "version" not in stored:
        study.set_user_attr(MEANING_ATTR, meaning)
    if stored is None:
        study.set_user_attr("space", json.dumps(experiment.space.to_dict(), sort_keys=True))
        study.set_user_attr("objectives", [list(o) for o in experiment.objectives])
        study.set_user_attr("experiment", str(experiment.path))
    name_metrics(study, [name for name, _ in experiment.objectives])
    record_run(study, experiment)
    return study


def name_metrics(study: optuna.Study, names: list[str]) -> None:
    """Record ``names`` as the study's metric names (one per objective), so that
    optuna-dashboard and Optuna's plots label each axis by its objective; written only
    where the study holds other names or none (a study made before they were recorded)."""
    if study.metric_names == names:
        return
    with warnings.catch_warnings():
        # set_metric_names is marked experimental; the attribute it writes is stable.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(names)


def run_record(experiment: Experiment) -> dict[str, Any]:
    """What one run of a search was asked to do, for reports: when it started (UTC), the
    experiment file, sampler, pruner (with their options), seed, budget, workers and the
    absolute weights folder. Unlike the meaning record these may change between runs."""
    (sampler, sampler_options), (pruner, pruner_options) = experiment.sampler, experiment.pruner
    folder = artifacts_dir(experiment.storage, experiment.study, experiment.artifacts.dir)
    record = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "experiment": str(experiment.path.resolve()),
        "sampler": sampler,
        "sampler_options": sampler_options,
        # The default that decides how many first trials are random, where it applies.
        "sampler_defaults": {
            key: default
            for name, (key, default, _) in RANDOM_START.items()
            if name == sampler and key not in sampler_options
        },
        "pruner": pruner,
        "pruner_options": pruner_options,
        "seed": experiment.seed,
        "trials": experiment.trials,
        "timeout": experiment.timeout,
        "workers": experiment.execution.workers,
        "weights": str(folder.resolve()),
    }
    # Options come from YAML: plain values, but a date or such reads back as its text.
    return json.loads(json.dumps(record, default=str))


def record_run(study: optuna.Study, experiment: Experiment) -> None:
    """Append this run's :func:`run_record` to the study's ``runs`` attribute (the last
    :data:`KEPT_RUNS`). Two drivers starting at one moment may each keep only their own."""
    runs = list(study.user_attrs.get(RUNS_ATTR, []))[-(KEPT_RUNS - 1) :]
    study.set_user_attr(RUNS_ATTR, [*runs, run_record(experiment)])


def record_dataset(study: optuna.Study, data: Dataset) -> None:
    """Store what the trials' weights and metrics refer to: the data's name, shapes and split
    sizes (an export needs the input shape and classes)."""
    study.set_user_attr(
        "dataset",
        {
            "name": str(data.name),
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "n_train": len(data.x_train),
            "n_val": len(data.x_val),
            "n_test": len(data.x_test),
        },
    )
