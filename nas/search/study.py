"""The study a search writes: created or resumed, checked against the experiment."""

from __future__ import annotations

import json

import optuna
from optuna.trial import TrialState

from nas.config import Experiment
from nas.data import Dataset
from nas.errors import SpecError
from nas.search.algorithms import make_pruner, make_sampler
from nas.search.meaning import MEANING_ATTR, differences, meaning_of, stored_meaning
from nas.store import open_storage

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


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
    objectives and experiment file. An existing one is checked first, before anything is
    written to it: :class:`SpecError` names every setting that differs from what the study
    recorded (stored and now) and the way out, ``--study NEW``. A study made before the
    meaning record existed is checked on what it recorded, and then records the full one.
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
        pruner=make_pruner(pruner_name, pruner_options, experiment.training.epochs),
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
