"""Heartbeats of the trials a driver runs, recorded from a thread."""

from __future__ import annotations

import threading

import optuna

from nas.store.internals import heartbeat_storage


class Heartbeat:
    """Records a heartbeat of every trial id in :attr:`trial_ids` each interval, so other
    drivers (and this one after a restart) can tell a live trial from one whose driver died.
    A no-op on stores without heartbeats. Use as a context manager: the thread runs inside.

    A beat the store refuses (a full disk, a locked or read-only file) is skipped, never
    raised in the thread: the driver's own next write meets the same fault and reports it
    as one line. :attr:`failed` counts skipped beats and :attr:`error` keeps the last one.
    """

    def __init__(self, study: optuna.Study) -> None:
        self.storage = heartbeat_storage(study)
        self.enabled = self.storage is not None
        self.trial_ids: set[int] = set()
        self.failed = 0
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = self.storage.get_heartbeat_interval() if self.enabled else 0
        while not self._stop.wait(interval):
            for trial_id in list(self.trial_ids):
                try:
                    self.storage.record_heartbeat(trial_id)
                except Exception as err:  # any store fault; see the class
                    self.failed += 1
                    self.error = err

    def __enter__(self) -> Heartbeat:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()
