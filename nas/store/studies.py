"""The studies of a store as a whole: listing them (``nas studies``) and deleting one with
its weight files (``nas delete``).

Listing only reads: the store is opened with ``create=False``, so a store that does not
exist raises :class:`~nas.errors.NoStore` naming the absolute path looked at and nothing is
created. Deleting opens an existing store for writing, never a new one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from nas.errors import NoStore, UnknownStudy
from nas.store.faults import shown_url, store_faults
from nas.store.storages import open_storage
from nas.store.weights import RemovedWeights, remove_weights


@dataclass(frozen=True)
class StudyOverview:
    """One study at a glance.

    ``objectives``: the metric of each objective (as the search recorded them; ``value`` or
    ``value_i`` for a study made otherwise) with its direction. ``states``: trial state name
    -> how many trials are in it (states with none left out). ``best``: per objective, the
    best value among complete trials (``None`` where none completed), each objective on its
    own. ``last_update``: when a trial last started or finished (``None``: no trials).
    """

    name: str
    objectives: tuple[tuple[str, str], ...]
    states: dict[str, int]
    best: tuple[float | None, ...]
    last_update: datetime.datetime | None

    @property
    def n_trials(self) -> int:
        return sum(self.states.values())


def list_studies(url: str) -> list[StudyOverview]:
    """Every study in the store ``url``, by name. Reads only; raises what
    :func:`~nas.store.open_storage` raises with ``create=False`` (:class:`~nas.errors.NoStore`
    where no store exists)."""
    backend = open_storage(url, create=False)
    with store_faults(url):
        return sorted(
            (_overview(backend, study) for study in backend.get_all_studies()),
            key=lambda s: s.name,
        )


def _overview(
    backend: optuna.storages.BaseStorage, study: optuna.study.FrozenStudy
) -> StudyOverview:
    trials = backend.get_all_trials(study._study_id, deepcopy=False)
    directions = tuple(d.name.lower() for d in study.directions)
    names = _metric_names(study.user_attrs.get("objectives"), len(directions))
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    complete = [t.values for t in trials if t.state == TrialState.COMPLETE and t.values]
    best = tuple(
        (max if direction == "maximize" else min)(values[i] for values in complete)
        if complete
        else None
        for i, direction in enumerate(directions)
    )
    times = [
        moment
        for t in trials
        for moment in (t.datetime_start, t.datetime_complete)
        if moment is not None
    ]
    return StudyOverview(
        name=study.study_name,
        objectives=tuple(zip(names, directions, strict=True)),
        states=states,
        best=best,
        last_update=max(times, default=None),
    )


def _metric_names(recorded: object, count: int) -> tuple[str, ...]:
    """The objectives' metric names a search recorded (``[[metric, direction], ...]``), else
    ``value`` (one objective) or ``value_0``, ``value_1``, ..."""
    if isinstance(recorded, list) and len(recorded) == count:
        names = [pair[0] if isinstance(pair, list) and pair else None for pair in recorded]
        if all(isinstance(name, str) for name in names):
            return tuple(names)
    return ("value",) if count == 1 else tuple(f"value_{i}" for i in range(count))


def study_overview(url: str, study: str) -> StudyOverview:
    """The overview of ``study``; raises :class:`~nas.errors.UnknownStudy` naming the
    studies there (none, where no store exists: nothing is created looking)."""
    try:
        studies = list_studies(url)
    except NoStore:
        studies = []
    for overview in studies:
        if overview.name == study:
            return overview
    names = sorted(s.name for s in studies)
    raise UnknownStudy(f"no study {study!r} in {shown_url(url)}; studies there: {names or 'none'}")


def delete_study(url: str, study: str, artifacts: str | None = None) -> RemovedWeights:
    """Delete ``study`` and its trials from the store ``url``, then its weight files
    (:func:`~nas.store.weights.remove_weights`; ``artifacts``: the artifacts folder, if the
    experiment set one). The store is changed only if it holds the study
    (:class:`~nas.errors.UnknownStudy` otherwise); the weights go after the study, so a
    store that refuses the deletion keeps them too."""
    study_overview(url, study)
    backend = open_storage(url)
    with store_faults(url):
        optuna.delete_study(study_name=study, storage=backend)
    with store_faults(url):
        return remove_weights(url, study, artifacts)
