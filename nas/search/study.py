"""The study a search writes: created or resumed, checked against the experiment."""

from __future__ import annotations

import json

import optuna
from optuna.trial import TrialState

from nas.config import Experiment
from nas.data import Dataset
from nas.errors import SpecError
from nas.search.algorithms import make_pruner, make_sampler
from nas.store import open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def counted_trials(study: optuna.Study) -> int:
    """Finished trials that count towards the budget (rejections and re-queued ones do not)."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(1 for t in trials if t.user_attrs.get("counts", True))


def running_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's running trials, of every driver."""
    return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))


def open_search_study(experiment: Experiment) -> optuna.Study:
    """Create or load the experiment's study, with the experiment's sampler and pruner.

    Raises :class:`SpecError` when the study exists with other directions or was made from
    a different space; a new study records its space, objectives and experiment file.
    """
    storage = open_storage(experiment.storage)
    directions = [direction for _, direction in experiment.objectives]
    sampler_name, sampler_options = experiment.sampler
    pruner_name, pruner_options = experiment.pruner
    study = optuna.create_study(
        study_name=experiment.study,
        storage=storage,
        directions=directions,
        sampler=make_sampler(sampler_name, sampler_options, experiment.seed),
        pruner=make_pruner(pruner_name, pruner_options, experiment.training.epochs),
        load_if_exists=True,
    )
    if [d.name.lower() for d in study.directions] != directions:
        raise SpecError(
            experiment.path,
            "objectives",
            f"study {experiment.study!r} already exists with directions "
            f"{[d.name.lower() for d in study.directions]}; use another --study name",
        )
    space_json = json.dumps(experiment.space.to_dict(), sort_keys=True)
    stored = study.user_attrs.get("space")
    if stored is None:
        study.set_user_attr("space", space_json)
        study.set_user_attr("objectives", [list(o) for o in experiment.objectives])
        study.set_user_attr("experiment", str(experiment.path))
    elif stored != space_json:
        raise SpecError(
            experiment.path,
            "space",
            f"study {experiment.study!r} was made from a different search space; resume it with "
            "the same space, or start a new study with --study NAME",
        )
    return study


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
