"""Taking back trials whose driver died, and putting their candidates in the queue again.

A driver names itself (:func:`nas.processes.process_name`) on each trial right after asking
for it. A running trial is abandoned when that process on this host is gone, when its
heartbeats stopped (RDB stores), or when it still names no driver
:data:`ORPHAN_GRACE_SECONDS` after it started (the driver died between the ask and the
naming).
"""

from __future__ import annotations

from datetime import datetime

import optuna
from optuna.trial import FrozenTrial, TrialState

from nas.processes import named_alive
from nas.search.study import running_trials
from nas.store import queued_params, stale_trial_ids, storage_of, trial_id, write_trial

ORPHAN_GRACE_SECONDS = 10.0
"""A driver names itself on a trial right after asking for it; a running trial that still has
no driver after this long lost its driver in between."""


def _orphan_wait(trial: FrozenTrial) -> float:
    """Seconds until a running trial that names no driver counts as abandoned (0 once it
    does, or when it names one)."""
    if "driver" in trial.user_attrs or trial.datetime_start is None:
        return 0.0
    age = (datetime.now() - trial.datetime_start).total_seconds()
    return max(0.0, ORPHAN_GRACE_SECONDS - age)


def _abandoned(trial: FrozenTrial) -> bool:
    """Whether a running trial's driver is gone: its process on this host has exited, or it
    died between asking for the trial and naming itself on it."""
    driver = trial.user_attrs.get("driver")
    if driver is None:
        return _orphan_wait(trial) == 0.0
    return not named_alive(driver)


def pending_orphans(study: optuna.Study) -> float:
    """Seconds until every running trial that names no driver counts as abandoned."""
    return max((_orphan_wait(t) for t in running_trials(study)), default=0.0)


def requeue(study: optuna.Study, trial: FrozenTrial, reason: str) -> None:
    """Enqueue ``trial``'s candidate again with its attempt count raised."""
    study.enqueue_trial(
        trial.params,
        user_attrs={
            "attempt": int(trial.user_attrs.get("attempt", 0)) + 1,
            "retry_of": trial.number,
            "retry_reason": reason,
        },
        skip_if_exists=False,
    )


def requeue_unstarted(study: optuna.Study, trial: FrozenTrial | optuna.Trial) -> None:
    """Put back a queued candidate that ``trial`` had taken before it ever ran."""
    fixed = queued_params(study, trial)
    if fixed is None:
        return
    keep = ("attempt", "retry_of", "retry_reason")
    attrs = {k: v for k, v in trial.user_attrs.items() if k in keep}
    study.enqueue_trial(fixed, user_attrs=attrs, skip_if_exists=False)


def recover_stale(study: optuna.Study) -> list[int]:
    """Fail and re-queue trials left running by a driver that died; returns their numbers.

    A recovered trial keeps a ``fail_reason`` and does not count. A trial whose candidate was
    complete (its architecture recorded) runs again with that candidate, its attempt raised.
    One that died while its candidate was still being sampled never ran: a queued candidate
    it had taken is queued again as it was; a half-sampled one is dropped, and the sampler
    proposes afresh.
    """
    storage = storage_of(study)
    stale = stale_trial_ids(study)
    recovered = []
    for trial in running_trials(study):
        if trial_id(trial) not in stale and not _abandoned(trial):
            continue
        started = "architecture" in trial.user_attrs
        reason = (
            "the search driver stopped while this trial was running"
            if started
            else "the search driver stopped before this trial's candidate was complete"
        )
        try:
            write_trial(storage, trial_id(trial), {"fail_reason": reason, "counts": False})
            storage.set_trial_state_values(trial_id(trial), state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another driver recovered it first
        recovered.append(trial.number)
        if started:
            requeue(study, storage.get_trial(trial_id(trial)), reason)
        else:
            requeue_unstarted(study, trial)
    return recovered
