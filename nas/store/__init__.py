"""The results store: Optuna storage (SQLite, PostgreSQL or a journal file) plus weight
files beside it. The one home of Optuna's storage internals and of SQL: bulk reads
(:func:`read_study`), one-transaction writes (:func:`write_trial`), heartbeats, and the
few private Optuna names the driver needs (:mod:`nas.store.internals`). A store that cannot
be opened or written raises one-line errors (:func:`store_faults`, :mod:`nas.store.faults`)."""

from nas.store.faults import shown_url, store_faults
from nas.store.heartbeat import Heartbeat
from nas.store.importances import param_importances
from nas.store.internals import queued_params, stale_trial_ids, storage_of, trial_id
from nas.store.records import (
    READERS,
    Reader,
    StudyRecords,
    TrialRecord,
    load_study,
    read_study,
    read_user_attr,
    record_of,
)
from nas.store.storages import ATTRS, open_storage
from nas.store.weights import (
    artifacts_dir,
    load_weights,
    save_weights,
    study_folder_name,
    weights_path,
)
from nas.store.writes import reset_connections, write_trial

__all__ = [
    "ATTRS",
    "READERS",
    "Heartbeat",
    "Reader",
    "StudyRecords",
    "TrialRecord",
    "artifacts_dir",
    "load_study",
    "load_weights",
    "open_storage",
    "param_importances",
    "queued_params",
    "read_study",
    "read_user_attr",
    "record_of",
    "reset_connections",
    "save_weights",
    "shown_url",
    "stale_trial_ids",
    "storage_of",
    "store_faults",
    "study_folder_name",
    "trial_id",
    "weights_path",
    "write_trial",
]
