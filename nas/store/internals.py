"""What the search driver needs of Optuna that Optuna's public API does not offer.

Every use of Optuna's private names outside the bulk reader and writer
(:mod:`nas.store.records`, :mod:`nas.store.writes`) is here, each behind a named function
with the reason the public API does not serve.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.storages import BaseStorage

try:
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
except ImportError:  # pragma: no cover - a future Optuna moved them
    BaseHeartbeat = None
    is_heartbeat_enabled = None


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage a study reads and writes. ``Study`` does not expose it, and the driver
    writes a trial's attributes in one transaction (:func:`nas.store.write_trial`), which
    needs the storage itself."""
    return study._storage


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The storage's id of a trial (not its number). Storage calls take ids, and neither
    ``Trial`` nor ``FrozenTrial`` has a public accessor for it."""
    return trial._trial_id


def heartbeat_storage(study: optuna.Study) -> Any | None:
    """The study's storage where it records heartbeats (an RDB store opened with a heartbeat
    interval), else ``None``. Optuna keeps the heartbeat interface in a private module and
    uses it only inside ``Study.optimize``; an ask/tell driver must record beats itself."""
    storage = storage_of(study)
    if BaseHeartbeat is None or not isinstance(storage, BaseHeartbeat):
        return None
    return storage if is_heartbeat_enabled(storage) else None


def stale_trial_ids(study: optuna.Study) -> set[int]:
    """Ids of running trials whose heartbeats stopped (empty without heartbeats). Optuna's
    own check (``fail_stale_trials``) also fails them; the driver must decide itself how to
    close and re-queue each, so it asks for the ids alone."""
    storage = heartbeat_storage(study)
    if storage is None:
        return set()
    return set(storage._get_stale_trial_ids(study._study_id))


def queued_params(study: optuna.Study, trial: optuna.Trial | optuna.trial.FrozenTrial) -> Any:
    """The parameters a trial took from the queue (``study.enqueue_trial``), or ``None``.
    Optuna records them in a system attribute of its own naming, ``fixed_params``."""
    return storage_of(study).get_trial_system_attrs(trial_id(trial)).get("fixed_params")
