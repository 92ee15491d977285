"""A study's trials as plain records, read in bulk.

:func:`read_study` gives the same :class:`StudyRecords` whichever way it reads them:

- ``reader="sql"`` (RDB storage: SQLite, PostgreSQL, ...): a handful of bulk ``SELECT``s over
  Optuna's tables (``trials``, ``trial_values``, ``trial_params``,
  ``trial_user_attributes``). Optuna's ``get_trials`` builds one ORM object per trial and
  attribute; on a study of ten thousand trials these queries are about five times faster
  (``experiments/benchmarks/results/load_trials.md``).
- ``reader="optuna"``: ``Study.get_trials``; the only way into journal storage.
- ``reader="auto"`` (default): ``sql`` for RDB URLs, ``optuna`` otherwise.

Values are converted exactly as Optuna converts them (parameters to their external form,
infinite objective values, naive UTC datetimes to naive local time), so both readers give
equal records.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import optuna
from optuna.distributions import BaseDistribution, json_to_distribution
from optuna.storages import RDBStorage
from optuna.storages._rdb import models
from sqlalchemy import select

from nas.errors import NoStore, UnknownStudy
from nas.store.faults import shown_url, store_faults
from nas.store.storages import open_storage
from nas.urls import is_journal

Reader = Literal["auto", "sql", "optuna"]
READERS = ("auto", "sql", "optuna")


@dataclass(frozen=True)
class TrialRecord:
    """One trial: ``state`` is the :class:`~optuna.trial.TrialState` name; ``values`` is
    ``None`` unless the trial completed; ``params`` hold external values (the choice itself,
    not its index)."""

    number: int
    state: str
    values: tuple[float, ...] | None
    params: dict[str, Any]
    user_attrs: dict[str, Any]
    datetime_start: datetime.datetime | None
    datetime_complete: datetime.datetime | None


@dataclass(frozen=True)
class StudyRecords:
    """A study's directions (``maximize``/``minimize``), user attributes and trials ordered by
    number."""

    name: str
    directions: tuple[str, ...]
    user_attrs: dict[str, Any]
    trials: list[TrialRecord]


def read_study(
    storage: str, study: str, *, reader: Reader = "auto", exclude: Collection[str] = ()
) -> StudyRecords:
    """All trials of ``study`` in ``storage`` (a URL as :func:`nas.store.open_storage` takes).

    Trial user attributes named in ``exclude`` are left out (never read, with ``sql``).
    Reads only: a missing store or study is never created. Raises
    :class:`~nas.errors.UnknownStudy` (a ``KeyError``) naming the studies there when
    ``study`` does not exist (or no store does), ``ValueError`` for an unknown ``reader`` or
    ``sql`` on journal storage, and what :func:`nas.store.open_storage` raises for a store
    that cannot be read.
    """
    backend = _open(storage, study, reader)
    with store_faults(storage):
        if _use_sql(backend, reader):
            return _sql_study(backend, study, exclude)
        return _optuna_study(backend, study, exclude)


def read_user_attr(
    storage: str, study: str, key: str, *, reader: Reader = "auto"
) -> dict[int, Any]:
    """Trial number -> the trial's ``key`` user attribute, for trials that have it."""
    backend = _open(storage, study, reader)
    with store_faults(storage):
        return _user_attr(backend, study, key, reader)


def _user_attr(
    backend: optuna.storages.BaseStorage, study: str, key: str, reader: Reader
) -> dict[int, Any]:
    if _use_sql(backend, reader):
        study_id = backend.get_study_id_from_name(study)
        t, a = _table(models.TrialModel), _table(models.TrialUserAttributeModel)
        query = (
            select(t.c.number, a.c.value_json)
            .join(t, t.c.trial_id == a.c.trial_id)
            .where(t.c.study_id == study_id, a.c.key == key)
        )
        with backend.engine.connect() as conn:
            return {number: json.loads(text) for number, text in conn.execute(query)}
    trials = optuna.load_study(study_name=study, storage=backend).get_trials(deepcopy=False)
    return {t.number: t.user_attrs[key] for t in trials if key in t.user_attrs}


def load_study(storage: str, study: str) -> optuna.Study:
    """An existing study as an Optuna ``Study``, to read what needs Optuna itself
    (importances); the store is opened read-only (:func:`nas.store.open_storage` with
    ``create=False``). Raises :class:`~nas.errors.UnknownStudy` (a ``KeyError``) naming the
    studies there, with the store's password masked."""
    backend = _open(storage, study, "optuna")
    with store_faults(storage):
        return optuna.load_study(study_name=study, storage=backend)


def _open(storage: str, study: str, reader: Reader) -> optuna.storages.BaseStorage:
    """The storage opened read-only, checked to hold ``study`` and to suit ``reader``."""
    if reader not in READERS:
        raise ValueError(f"reader must be one of {list(READERS)}, got {reader=}")
    if reader == "sql" and is_journal(storage):
        raise ValueError(f"reader='sql' needs an RDB storage URL, got journal file {storage!r}")
    try:
        backend = open_storage(storage, create=False)
    except NoStore:
        # Where nothing was stored, no study was either; nothing was created looking.
        raise UnknownStudy(
            f"no study {study!r} in {shown_url(storage)}; studies there: none"
        ) from None
    with store_faults(storage):
        names = [s.study_name for s in backend.get_all_studies()]
    if study not in names:
        raise UnknownStudy(
            f"no study {study!r} in {shown_url(storage)}; studies there: {sorted(names) or 'none'}"
        )
    return backend


def _use_sql(backend: optuna.storages.BaseStorage, reader: Reader) -> bool:
    return isinstance(backend, RDBStorage) and reader != "optuna"


def _optuna_study(
    backend: optuna.storages.BaseStorage, study: str, exclude: Collection[str]
) -> StudyRecords:
    loaded = optuna.load_study(study_name=study, storage=backend)
    trials = [
        record_of(t, exclude)
        for t in sorted(loaded.get_trials(deepcopy=False), key=lambda t: t.number)
    ]
    return StudyRecords(
        name=study,
        directions=tuple(d.name.lower() for d in loaded.directions),
        user_attrs=dict(loaded.user_attrs),
        trials=trials,
    )


def record_of(trial: optuna.trial.FrozenTrial, exclude: Collection[str] = ()) -> TrialRecord:
    """``trial`` as a plain record (user attributes named in ``exclude`` left out)."""
    return TrialRecord(
        number=trial.number,
        state=trial.state.name,
        values=tuple(trial.values) if trial.values is not None else None,
        params=dict(trial.params),
        user_attrs={k: v for k, v in trial.user_attrs.items() if k not in exclude},
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
    )


def _sql_study(backend: RDBStorage, study: str, exclude: Collection[str]) -> StudyRecords:
    study_id = backend.get_study_id_from_name(study)
    t = _table(models.TrialModel)
    v = _table(models.TrialValueModel)
    p = _table(models.TrialParamModel)
    a = _table(models.TrialUserAttributeModel)
    in_study = t.c.study_id == study_id
    with backend.engine.connect() as conn:
        rows = conn.execute(
            select(
                t.c.trial_id, t.c.number, t.c.state, t.c.datetime_start, t.c.datetime_complete
            ).where(in_study)
        ).all()
        values = conn.execute(
            select(v.c.trial_id, v.c.objective, v.c.value, v.c.value_type)
            .join(t, t.c.trial_id == v.c.trial_id)
            .where(in_study)
            .order_by(v.c.trial_id, v.c.objective)
        ).all()
        params = conn.execute(
            select(p.c.trial_id, p.c.param_name, p.c.param_value, p.c.distribution_json)
            .join(t, t.c.trial_id == p.c.trial_id)
            .where(in_study)
            .order_by(p.c.param_id)
        ).all()
        attr_query = (
            select(a.c.trial_id, a.c.key, a.c.value_json)
            .join(t, t.c.trial_id == a.c.trial_id)
            .where(in_study)
            .order_by(a.c.trial_user_attribute_id)
        )
        if exclude:
            attr_query = attr_query.where(a.c.key.not_in(list(exclude)))
        attrs = conn.execute(attr_query).all()

    values_of = _values(values)
    params_of: dict[int, dict[str, Any]] = {}
    distributions: dict[str, BaseDistribution] = {}  # few distinct ones: parse each once
    for trial_id, name, value, dist_json in params:
        dist = distributions.get(dist_json)
        if dist is None:
            dist = distributions[dist_json] = json_to_distribution(dist_json)
        params_of.setdefault(trial_id, {})[name] = dist.to_external_repr(value)
    attrs_of: dict[int, dict[str, Any]] = {}
    for trial_id, key, text in attrs:
        attrs_of.setdefault(trial_id, {})[key] = json.loads(text)

    trials = [
        TrialRecord(
            number=number,
            state=state.name,
            values=values_of.get(trial_id) if state == optuna.trial.TrialState.COMPLETE else None,
            params=params_of.get(trial_id, {}),
            user_attrs=attrs_of.get(trial_id, {}),
            datetime_start=_local(start),
            datetime_complete=_local(complete),
        )
        for trial_id, number, state, start, complete in sorted(rows, key=lambda r: r[1])
    ]
    return StudyRecords(
        name=study,
        directions=tuple(d.name.lower() for d in backend.get_study_directions(study_id)),
        user_attrs=backend.get_study_user_attrs(study_id),
        trials=trials,
    )


def _values(rows: Iterable[tuple]) -> dict[int, tuple[float, ...]]:
    """Trial id -> objective values, decoded as Optuna stores them (infinities apart)."""
    kinds = models.TrialValueModel.TrialValueType
    out: dict[int, list[float]] = {}
    for trial_id, _, value, kind in rows:
        if kind == kinds.INF_POS:
            value = float("inf")
        elif kind == kinds.INF_NEG:
            value = float("-inf")
        out.setdefault(trial_id, []).append(value)
    return {trial_id: tuple(vals) for trial_id, vals in out.items()}


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    """RDB storage keeps naive UTC; Optuna hands out naive local time."""
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).astimezone().replace(tzinfo=None)


def _table(model: type) -> Any:
    return model.__table__
