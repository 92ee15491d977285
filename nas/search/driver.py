"""The search driver: Optuna ask/tell in one process, the only writer of the store.

``run_search(experiment)`` asks the sampler for candidates, rejects those that break a hard
constraint before any training, hands the rest to an executor, streams per-epoch validation
metrics to the pruner, and records every outcome. Running it again on the same study resumes:
trials left running by a driver that died are marked failed and their candidates re-queued,
and the search goes on until the study holds ``experiment.trials`` counted trials. Ctrl-C
(or SIGTERM) stops cleanly: running trials are marked interrupted and re-queued, finished
ones are kept. The test split is evaluated only for the best trials, after the search.

Several drivers may share one study (a journal file or a database store): ``trials`` is then
the study-wide target. A driver starts a trial only while the study's counted plus running
trials (of every driver) are below it, and ends once its own trials are done; together the
drivers leave exactly ``trials`` counted trials, each candidate recorded once.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

from nas.architecture import Architecture
from nas.batch_write import reset_connections, write_trial
from nas.datasets import Dataset
from nas.errors import SpecError
from nas.executor import Executor, make_executor
from nas.job import TrialJob, TrialOutcome
from nas.progress import NullReporter, Reporter
from nas.samplers import OptunaSuggest, make_pruner, make_sampler
from nas.shapes import ShapeError
from nas.stats import model_stats
from nas.store import artifacts_dir, open_storage, save_weights
from nas.trainer import TrainConfig, Trainer

EPOCH_METRICS = ("val_accuracy", "val_loss", "train_loss")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
MAX_CONSECUTIVE_REJECTIONS = 200
INTERRUPTED = {"fail_reason": "interrupted", "counts": False}
ORPHAN_GRACE_SECONDS = 10.0
"""A driver names itself on a trial right after asking for it; a running trial that still has
no driver after this long lost its driver in between."""

ExecutorFactory = Callable[[Any, Dataset, TrainConfig], Executor]


@dataclass
class SearchSummary:
    """What a call of :func:`run_search` did. ``best`` are the best trials (Pareto front with
    several objectives) with their test metrics under ``test`` (number -> metrics)."""

    study: str
    storage: str
    counted: int
    target: int | None
    new_trials: int
    interrupted: bool
    elapsed: float
    best: list[FrozenTrial] = field(default_factory=list)
    test: dict[int, dict[str, float]] = field(default_factory=dict)


def counted_trials(study: optuna.Study) -> int:
    """Finished trials that count towards the budget (rejections and re-queued ones do not)."""
    trials = study.get_trials(deepcopy=False, states=FINISHED)
    return sum(1 for t in trials if t.user_attrs.get("counts", True))


def driver_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _driver_alive(driver: str | None) -> bool:
    """False only when ``driver`` ran on this host and its process is gone."""
    if not driver or ":" not in driver:
        return True
    host, _, pid = driver.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


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
    return not _driver_alive(driver)


def pending_orphans(study: optuna.Study) -> float:
    """Seconds until every running trial that names no driver counts as abandoned."""
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return max((_orphan_wait(t) for t in running), default=0.0)


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


def recover_stale(study: optuna.Study) -> list[int]:
    """Fail and re-queue trials left running by a driver that died; returns their numbers.

    A driver is dead when its process on this host is gone or, with an RDB store, when its
    heartbeats stopped; a trial that names no driver :data:`ORPHAN_GRACE_SECONDS` after it
    started lost its driver between the ask and the naming. A recovered trial keeps a
    ``fail_reason`` and does not count. A trial whose candidate was complete (its
    architecture recorded) runs again with that candidate, its attempt raised. One that died
    while its candidate was still being sampled never ran: a queued candidate it had taken is
    queued again as it was; a half-sampled one is dropped, and the sampler proposes afresh.
    """
    storage = study._storage
    stale: set[int] = set()
    if isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage):
        stale = set(storage._get_stale_trial_ids(study._study_id))
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial._trial_id not in stale and not _abandoned(trial):
            continue
        started = "architecture" in trial.user_attrs
        reason = (
            "the search driver stopped while this trial was running"
            if started
            else "the search driver stopped before this trial's candidate was complete"
        )
        try:
            write_trial(storage, trial._trial_id, {"fail_reason": reason, "counts": False})
            storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another driver recovered it first
        recovered.append(trial.number)
        if started:
            requeue(study, storage.get_trial(trial._trial_id), reason)
        else:
            _requeue_unstarted(study, trial)
    return recovered


def _requeue_unstarted(study: optuna.Study, trial: FrozenTrial | optuna.Trial) -> None:
    """Put back a queued candidate that ``trial`` had taken before it ever ran."""
    fixed = study._storage.get_trial_system_attrs(trial._trial_id).get("fixed_params")
    if fixed is None:
        return
    keep = ("attempt", "retry_of", "retry_reason")
    attrs = {k: v for k, v in trial.user_attrs.items() if k in keep}
    study.enqueue_trial(fixed, user_attrs=attrs, skip_if_exists=False)


class _Heartbeat:
    """Records heartbeats of in-flight trials from a thread, so other drivers (and this one
    after a restart) can tell a live trial from one whose driver died."""

    def __init__(self, study: optuna.Study) -> None:
        storage = study._storage
        self.enabled = isinstance(storage, BaseHeartbeat) and is_heartbeat_enabled(storage)
        self.storage = storage
        self.trial_ids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        interval = self.storage.get_heartbeat_interval() if self.enabled else 0
        while not self._stop.wait(interval):
            for trial_id in list(self.trial_ids):
                self.storage.record_heartbeat(trial_id)

    def __enter__(self) -> _Heartbeat:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()


def _metric(name: str, outcome: TrialOutcome, stats: dict[str, int]) -> float:
    if name in stats:
        return float(stats[name])
    if name in outcome.metrics:
        return float(outcome.metrics[name])
    return float(outcome.timings[name])


def _keep_weights(study: optuna.Study, policy: str, k: int) -> set[int]:
    """Trial numbers whose weights the artifacts policy keeps: every complete trial (``all``),
    none, or the ``k`` best by the first objective (ties to the lower number) plus, with
    several objectives, the Pareto front (``best_k``). Once dropped, a trial never comes
    back: later trials only push it further down."""
    if policy == "none":
        return set()
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if policy == "all":
        return {t.number for t in done}
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    ranked = sorted(done, key=lambda t: sign * t.values[0])
    keep = {t.number for t in ranked[:k]}
    if len(study.directions) > 1:
        keep |= {t.number for t in study.best_trials}
    return keep


class _Stop:
    """Turns SIGTERM into KeyboardInterrupt for the duration of a search."""

    def __enter__(self) -> _Stop:
        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)


def open_study(experiment: Any) -> optuna.Study:
    """Create or load the experiment's study; refuses one made from a different space."""
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


def run_search(
    experiment: Any,
    *,
    reporter: Reporter | None = None,
    executor_factory: ExecutorFactory | None = None,
) -> SearchSummary:
    """Run (or resume) the experiment's search; see the module docstring.

    Raises :class:`SpecError` before writing anything where the experiment cannot run.
    """
    reporter = reporter or NullReporter()
    started = time.monotonic()
    data = experiment.load_data()
    study = open_study(experiment)
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
    recovered = recover_stale(study)
    config = TrainConfig(
        epochs=experiment.training.epochs, eval_batch_size=experiment.training.eval_batch_size
    )
    folder = artifacts_dir(experiment.storage, experiment.study, experiment.artifacts.dir)
    objectives = [name for name, _ in experiment.objectives]
    report_metric = (
        objectives[0] if len(objectives) == 1 and objectives[0] in EPOCH_METRICS else None
    )
    # Intermediate values go to the store as each epoch ends only where a pruner reads them;
    # otherwise all of a trial's are written with its result, in the same transaction.
    live_pruning = report_metric is not None and not isinstance(
        study.pruner, optuna.pruners.NopPruner
    )
    deadline = started + experiment.timeout if experiment.timeout else math.inf
    target = experiment.trials
    driver = driver_id()
    in_flight: dict[int, tuple[optuna.Trial, dict[str, int], float]] = {}
    new_trials = 0
    interrupted = False
    rejections = 0

    def budget_left() -> float:
        if target is None:
            return math.inf
        # The target is study-wide: trials other drivers are running take from it too.
        running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        return target - counted_trials(study) - max(running, len(in_flight))

    def on_epoch(number: int, epoch: int, metrics: dict[str, float]) -> bool:
        trial = in_flight[number][0]
        reporter.epoch(number, epoch, metrics)
        if not live_pruning:
            return False
        trial.report(metrics[report_metric], epoch)
        return trial.should_prune()

    def record(outcome: TrialOutcome) -> None:
        nonlocal new_trials
        trial, stats, submitted = in_flight.pop(outcome.trial_number)
        heartbeat.trial_ids.discard(trial._trial_id)
        attrs: dict[str, Any] = {
            **outcome.timings,
            **outcome.metrics,
            "device": outcome.device,
            "node": outcome.node,
            "wall_seconds": time.monotonic() - submitted,
            "epochs_run": len(outcome.history),
            "curves": json.dumps(outcome.history, separators=(",", ":")),
        }
        if outcome.reason:
            attrs["fail_reason" if outcome.state == "failed" else "prune_reason"] = outcome.reason
        if outcome.traceback:
            attrs["traceback"] = outcome.traceback
        attempt = int(trial.user_attrs.get("attempt", 0))
        if (
            outcome.state == "failed"
            and outcome.worker_died
            and attempt < experiment.execution.retries
        ):
            attrs["counts"] = False
            requeue(study, study._storage.get_trial(trial._trial_id), outcome.reason or "")
        state = {
            "complete": TrialState.COMPLETE,
            "pruned": TrialState.PRUNED,
            "failed": TrialState.FAIL,
        }[outcome.state]
        values = None
        if outcome.state == "complete":
            values = [_metric(name, outcome, stats) for name in objectives]
            if not all(math.isfinite(v) for v in values):
                state, values = TrialState.FAIL, None
                attrs["fail_reason"] = "non-finite objective value"
            elif experiment.artifacts.keep_weights != "none":
                attrs["weights"] = save_weights(folder, trial.number, outcome.variables)
        intermediate = {}
        if report_metric is not None and not live_pruning:
            intermediate = {int(row["epoch"]): float(row[report_metric]) for row in outcome.history}
        write_trial(study._storage, trial._trial_id, attrs, intermediate)
        frozen = study.tell(trial, values, state=state)
        new_trials += 1
        if attrs.get("weights"):
            _prune_weight_files(study, folder, experiment.artifacts)
        reporter.trial_finished(frozen, counted_trials(study))

    def submit_next(executor: Executor) -> bool:
        nonlocal rejections
        with warnings.catch_warnings():
            # This driver records heartbeats itself (see _Heartbeat); Optuna's notice is moot.
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = study.ask()
        trial.set_user_attr("driver", driver)
        if target is not None and _over_target(study, trial, target):
            return False
        arch = experiment.sample(OptunaSuggest(trial))
        described = {"architecture": arch.to_json(), "signature": arch.signature_hash()}
        try:
            stats = model_stats(arch, data.input_shape, data.num_classes)
        except ShapeError as err:
            return _reject(trial, f"cannot be built: {err}", described)
        stats_dict = {"n_params": stats.n_params, "flops": stats.flops}
        violation = _violation(stats_dict, experiment.constraints)
        if violation:
            return _reject(trial, violation, {**described, **stats_dict})
        write_trial(study._storage, trial._trial_id, {**described, **stats_dict})
        rejections = 0
        seed = experiment.seed * 100_003 + trial.number
        in_flight[trial.number] = (trial, stats_dict, time.monotonic())
        heartbeat.trial_ids.add(trial._trial_id)
        executor.submit(
            TrialJob(
                trial.number,
                described["architecture"],
                seed,
                int(trial.user_attrs.get("attempt", 0)),
            )
        )
        reporter.trial_started(trial.number, arch)
        return True

    def _reject(trial: optuna.Trial, reason: str, described: dict[str, Any]) -> bool:
        nonlocal rejections, new_trials
        rejections += 1
        attrs = {**described, "fail_reason": reason, "counts": False, "rejected": True}
        write_trial(study._storage, trial._trial_id, attrs)
        frozen = study.tell(trial, state=TrialState.FAIL)
        new_trials += 1
        reporter.trial_finished(frozen, counted_trials(study))
        if rejections >= MAX_CONSECUTIVE_REJECTIONS:
            raise SpecError(
                experiment.path,
                "constraints",
                f"{rejections} candidates in a row broke the constraints or could not be "
                f"built (last: {reason}); loosen the constraints or narrow the space",
            )
        return False

    factory = executor_factory or make_executor
    reporter.start(experiment, counted_trials(study), target, recovered)
    with _Stop(), _Heartbeat(study) as heartbeat, factory(experiment, data, config) as executor:
        try:
            while True:
                while (
                    len(in_flight) < executor.slots
                    and budget_left() > 0
                    and time.monotonic() < deadline
                    and not getattr(study.sampler, "exhausted", False)
                ):
                    submit_next(executor)
                if not in_flight:
                    # A trial whose driver died before naming itself holds a place in the
                    # budget until it can be told abandoned; wait for that, then take it back.
                    wait = pending_orphans(study) if budget_left() <= 0 else 0.0
                    if wait <= 0:
                        break
                    time.sleep(wait)
                    recover_stale(study)
                    continue
                for outcome in executor.wait(on_epoch, timeout=1.0):
                    record(outcome)
        except KeyboardInterrupt:
            interrupted = True
            # The interrupt may have landed inside a query: start from a clean session.
            reset_connections(study._storage)
            try:
                for number in list(in_flight):
                    trial = in_flight.pop(number)[0]
                    write_trial(study._storage, trial._trial_id, INTERRUPTED)
                    study.tell(trial, state=TrialState.FAIL)
                    requeue(study, study._storage.get_trial(trial._trial_id), "interrupted")
            except optuna.exceptions.StorageInternalError:
                # The store refused the write (seen once on SQLite: "database is locked").
                # Trials left running are this dead driver's: the next run recovers them.
                pass
    summary = SearchSummary(
        study=experiment.study,
        storage=experiment.storage,
        counted=counted_trials(study),
        target=target,
        new_trials=new_trials,
        interrupted=interrupted,
        elapsed=time.monotonic() - started,
    )
    if not interrupted:
        summary.best, summary.test = evaluate_best(study, data, config, folder)
    reporter.done(summary)
    return summary


def _over_target(study: optuna.Study, trial: optuna.Trial, target: int) -> bool:
    """Whether ``trial``, just asked, would pass the study-wide target; such a trial is
    closed at once (failed, not counted) and a re-queued candidate is queued again.

    Two drivers may ask for the last free place at the same moment; the lower trial number
    keeps it, so the study never holds more than ``target`` counted trials.
    """
    earlier = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    taken = counted_trials(study) + sum(1 for t in earlier if t.number < trial.number)
    if taken < target:
        return False
    _requeue_unstarted(study, trial)
    reason = f"not needed: the study reached its {target} trials"
    write_trial(study._storage, trial._trial_id, {"counts": False, "fail_reason": reason})
    study.tell(trial, state=TrialState.FAIL)
    return True


def _violation(stats: dict[str, int], constraints: Any) -> str | None:
    for name, limit in (("n_params", constraints.max_params), ("flops", constraints.max_flops)):
        if limit is not None and stats[name] > limit:
            return f"constraint: {name} {stats[name]} > max_{name.removeprefix('n_')} {limit}"
    return None


def _policy_text(artifacts: Any) -> str:
    """The keep_weights policy in words, as messages about dropped weights quote it."""
    if artifacts.keep_weights == "best_k":
        return f"best_k (k={artifacts.k})"
    return str(artifacts.keep_weights)


def _prune_weight_files(study: optuna.Study, folder: Path, artifacts: Any) -> None:
    """Delete the weight files the policy no longer keeps and record each such trial in the
    study's ``weights_dropped`` attribute (trial number -> policy in words).

    The trial's own ``weights`` attribute still names the deleted file, since Optuna does
    not let a finished trial change; readers (:func:`nas.analysis.load_trials`) consult the
    study attribute instead.
    """
    keep = _keep_weights(study, artifacts.keep_weights, artifacts.k)
    dropped: dict[str, str] = {}
    for path in folder.glob("trial_*.msgpack"):
        number = int(path.stem.removeprefix("trial_"))
        if number not in keep:
            path.unlink(missing_ok=True)
            dropped[str(number)] = _policy_text(artifacts)
    if dropped:
        # Read just before writing, so entries other drivers of the study added are kept.
        # Two drivers writing at the same moment can still lose one's entries; a reader then
        # finds the file missing and says so (nas.export), so nothing claims weights that
        # are gone.
        known = study.user_attrs.get("weights_dropped", {})
        study.set_user_attr("weights_dropped", {**known, **dropped})


def best_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The best trial, or the Pareto front with several objectives (empty when none finished)."""
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not done:
        return []
    return list(study.best_trials) if len(study.directions) > 1 else [study.best_trial]


def evaluate_best(
    study: optuna.Study, data: Dataset, config: TrainConfig, folder
) -> tuple[list[FrozenTrial], dict[int, dict[str, float]]]:
    """Test metrics of the best trials whose weights are kept, stored in the study's
    ``test_metrics`` attribute (trial number -> metrics). Nothing else ever sees the test split."""
    from nas.store import load_weights

    best = best_trials(study)
    results: dict[int, dict[str, float]] = {
        int(k): v for k, v in study.user_attrs.get("test_metrics", {}).items()
    }
    trainer = Trainer(config)
    for trial in best:
        name = trial.user_attrs.get("weights")
        if trial.number in results or not name or not (folder / name).exists():
            continue
        arch = Architecture.from_json(trial.user_attrs["architecture"])
        variables = load_weights(folder, name)
        metrics = trainer.evaluate(arch, variables, data.x_test, data.y_test, data.num_classes)
        results[trial.number] = {"test_accuracy": metrics["accuracy"], "test_loss": metrics["loss"]}
    study.set_user_attr("test_metrics", {str(k): v for k, v in results.items()})
    return best, {t.number: results[t.number] for t in best if t.number in results}
