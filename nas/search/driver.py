"""The search driver: Optuna ask/tell in one process, the only writer of the store.

:func:`run_search` asks the sampler for candidates, rejects those that break a hard
constraint before any training, hands the rest to an executor, streams per-epoch validation
metrics to the pruner, and records every outcome. Running it again on the same study resumes:
trials left running by a driver that died are marked failed and their candidates re-queued
(:mod:`nas.search.recovery`), and the search goes on until the study holds
``experiment.trials`` counted trials. Ctrl-C (or SIGTERM) stops cleanly: running trials are
marked interrupted and re-queued, finished ones are kept. The test split is evaluated only for
the best trials, after the search (:mod:`nas.search.evaluation`).

Each trial's draws are seeded from the experiment's seed and the trial's number
(:class:`~nas.search.algorithms.TrialSeeded`), so a resumed run proposes fresh candidates. A
proposal the study already holds, complete or running, is recorded as a skipped duplicate
(failed, not counted, never trained) unless ``execution.retrain_duplicates`` is set; a finite
space whose every candidate was tried ends the search (:mod:`nas.search.candidates`), as do
too many duplicates or rejections in a row, and the summary says why (``stopped``).

Several drivers may share one study (a journal file or a database store): ``trials`` is then
the study-wide target. A driver starts a trial only while the study's counted plus running
trials (of every driver) are below it, and ends once its own trials are done; together the
drivers leave exactly ``trials`` counted trials, each candidate recorded once and trained
once.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import TrialState

from nas.config import Experiment
from nas.data import Dataset
from nas.execution import Executor, TrialJob, TrialOutcome
from nas.model import ShapeError
from nas.processes import process_name
from nas.search.algorithms import OptunaSuggest
from nas.search.candidates import (
    MAX_CONSECUTIVE_DUPLICATES,
    candidate_sizes,
    check_feasible,
    counted_sizes,
    duplicate_of,
    taken_by,
    tried_all,
    violation,
)
from nas.search.evaluation import evaluate_best
from nas.search.executors import make_executor
from nas.search.interrupts import sigterm_as_interrupt
from nas.search.pruning import EpochPruning
from nas.search.recovery import pending_orphans, recover_stale, requeue, requeue_unstarted
from nas.search.reporter import NullReporter, Reporter, SearchSummary
from nas.search.retention import prune_weight_files
from nas.search.study import counted_trials, open_search_study, record_dataset, running_trials
from nas.store import (
    Heartbeat,
    artifacts_dir,
    record_of,
    reset_connections,
    save_weights,
    storage_of,
    trial_id,
    write_trial,
)
from nas.training import TrainConfig

MAX_CONSECUTIVE_REJECTIONS = 200
INTERRUPTED = {"fail_reason": "interrupted", "counts": False}
STATES = {"complete": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL}

ExecutorFactory = Callable[[Experiment, Dataset, TrainConfig], Executor]


def run_search(
    experiment: Experiment,
    *,
    reporter: Reporter | None = None,
    executor_factory: ExecutorFactory | None = None,
) -> SearchSummary:
    """Run (or resume) the experiment's search; see the module docstring.

    Raises :class:`SpecError` before writing anything where the experiment cannot run.
    """
    return SearchDriver(experiment, reporter or NullReporter()).run(
        executor_factory or make_executor
    )


class SearchDriver:
    """One run of a search on its study: what :func:`run_search` does, with the state the
    ask/tell loop shares (trials in flight, counts) held in one place."""

    def __init__(self, experiment: Experiment, reporter: Reporter) -> None:
        self.experiment = experiment
        self.reporter = reporter
        self.started = time.monotonic()
        self.data = experiment.load_data()
        # Both checks come before the study is opened or written: a refusal writes nothing.
        check_feasible(experiment, self.data)
        self.study = open_search_study(experiment, self.data)
        self.storage = storage_of(self.study)
        record_dataset(self.study, self.data)
        self.recovered = recover_stale(self.study)
        self.config = TrainConfig(
            epochs=experiment.training.epochs,
            eval_batch_size=experiment.training.eval_batch_size,
        )
        self.folder = artifacts_dir(experiment.storage, experiment.study, experiment.artifacts.dir)
        self.objectives = [name for name, _ in experiment.objectives]
        self.pruning = EpochPruning(self.study, self.objectives)
        # Set when the executor is ready (``run``): loading data, opening the store and
        # starting workers do not use up the time budget before any trial can start.
        self.deadline = math.inf
        self.target = experiment.trials
        self.driver = process_name()
        self.in_flight: dict[int, tuple[optuna.Trial, dict[str, int], float]] = {}
        self.new_trials = 0
        self.rejections = 0
        self.duplicates = 0
        self.cardinality = experiment.space.cardinality()
        # Why the search stopped before its target (None: it did not).
        self.stopped: str | None = None
        self.heartbeat = Heartbeat(self.study)
        spec, self.sizes = experiment.data_spec, counted_sizes(experiment)
        # Looked-up trials say so, and from which table in which mode.
        self.table_attrs = {"table": spec.table, "table_lookup": spec.lookup} if spec.table else {}

    def run(self, factory: ExecutorFactory) -> SearchSummary:
        interrupted = False
        self.reporter.start(
            self.experiment, counted_trials(self.study), self.target, self.recovered
        )
        with (
            sigterm_as_interrupt(),
            self.heartbeat,
            factory(self.experiment, self.data, self.config) as executor,
        ):
            if self.experiment.timeout:
                self.deadline = time.monotonic() + self.experiment.timeout
            try:
                self._loop(executor)
            except KeyboardInterrupt:
                interrupted = True
                self._close_interrupted()
        summary = SearchSummary(
            study=self.experiment.study,
            storage=self.experiment.storage,
            counted=counted_trials(self.study),
            target=self.target,
            new_trials=self.new_trials,
            interrupted=interrupted,
            elapsed=time.monotonic() - self.started,
            stopped=None if interrupted else self._stop_reason(),
        )
        if not interrupted:
            summary.best, summary.test = evaluate_best(
                self.study, self.data, self.config, self.folder
            )
        self.reporter.done(summary)
        return summary

    # -- the loop ------------------------------------------------------------------------

    def _loop(self, executor: Executor) -> None:
        while True:
            while (
                len(self.in_flight) < executor.slots
                and self._budget_left() > 0
                and time.monotonic() < self.deadline
                and self.stopped is None
                and not self._exhausted()
            ):
                self._submit_next(executor)
            if not self.in_flight:
                # A trial whose driver died before naming itself holds a place in the
                # budget until it can be told abandoned; wait for that, then take it back.
                wait = pending_orphans(self.study) if self._budget_left() <= 0 else 0.0
                if wait <= 0:
                    return
                time.sleep(wait)
                recover_stale(self.study)
                continue
            for outcome in executor.wait(self._on_epoch, timeout=1.0):
                self._record(outcome)

    def _budget_left(self) -> float:
        if self.target is None:
            return math.inf
        # The target is study-wide: trials other drivers are running take from it too.
        running = len(running_trials(self.study))
        return self.target - counted_trials(self.study) - max(running, len(self.in_flight))

    def _on_epoch(self, number: int, epoch: int, metrics: dict[str, float]) -> bool:
        trial = self.in_flight[number][0]
        self.reporter.epoch(number, epoch, metrics)
        return self.pruning.should_stop(trial, epoch, metrics)

    def _submit_next(self, executor: Executor) -> bool:
        with warnings.catch_warnings():
            # This driver records heartbeats itself (nas.store.Heartbeat); Optuna's notice
            # is moot.
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.study.ask()
        trial.set_user_attr("driver", self.driver)
        if self.target is not None and self._over_target(trial):
            return False
        arch = self.experiment.sample(OptunaSuggest(trial))
        described = {"architecture": arch.to_json(), "signature": arch.signature_hash()}
        if not self.experiment.execution.retrain_duplicates:
            original = duplicate_of(self.study, described["architecture"], trial.number)
            if original is not None:
                return self._skip_duplicate(trial, original, described)
        try:
            sizes = candidate_sizes(arch, self.data, self.sizes)
        except ShapeError as err:
            return self._reject(trial, f"cannot be built: {err}", described)
        broken = violation(sizes, self.experiment.constraints)
        if broken:
            return self._reject(trial, broken, {**described, **sizes})
        write_trial(self.storage, trial_id(trial), {**described, **sizes})
        if not self.experiment.execution.retrain_duplicates:
            original = taken_by(self.study, described["architecture"], trial.number)
            if original is not None:  # another driver took it at the same moment
                return self._skip_duplicate(trial, original, {**described, **sizes})
        self.rejections = self.duplicates = 0
        seed = job_seed(self.experiment.seed, trial.number)
        self.in_flight[trial.number] = (trial, sizes, time.monotonic())
        self.heartbeat.trial_ids.add(trial_id(trial))
        attempt = int(trial.user_attrs.get("attempt", 0))
        executor.submit(TrialJob(trial.number, described["architecture"], seed, attempt))
        self.reporter.trial_started(trial.number, arch)
        return True

    def _over_target(self, trial: optuna.Trial) -> bool:
        """Whether ``trial``, just asked, would pass the study-wide target; such a trial is
        closed at once (failed, not counted) and a re-queued candidate is queued again.

        Two drivers may ask for the last free place at the same moment; the lower trial
        number keeps it, so the study never holds more than the target counted trials.
        """
        earlier = running_trials(self.study)
        taken = counted_trials(self.study) + sum(1 for t in earlier if t.number < trial.number)
        if taken < self.target:
            return False
        requeue_unstarted(self.study, trial)
        reason = f"not needed: the study reached its {self.target} trials"
        write_trial(self.storage, trial_id(trial), {"counts": False, "fail_reason": reason})
        self.study.tell(trial, state=TrialState.FAIL)
        return True

    def _reject(self, trial: optuna.Trial, reason: str, described: dict[str, Any]) -> bool:
        self.rejections += 1
        attrs = {**described, "fail_reason": reason, "counts": False, "rejected": True}
        self._close_untrained(trial, attrs)
        if self.rejections >= MAX_CONSECUTIVE_REJECTIONS:
            # Not a refusal (check_feasible found candidates that fit, and this search has
            # written trials): the search stops, keeping them, and says why.
            self.stopped = (
                f"{self.rejections} candidates in a row broke the constraints or could not be "
                f"built (last: {reason}); they are kept as uncounted trials; loosen the "
                "constraints or narrow the space"
            )
        return False

    def _skip_duplicate(
        self, trial: optuna.Trial, original: int, described: dict[str, Any]
    ) -> bool:
        """Close a proposal the study already holds, untrained and uncounted, naming it."""
        self.duplicates += 1
        reason = (
            f"duplicate of trial {original}: not trained again "
            "(execution.retrain_duplicates: true trains it)"
        )
        attrs = {**described, "fail_reason": reason, "counts": False, "duplicate_of": original}
        self._close_untrained(trial, attrs)
        if self.duplicates >= MAX_CONSECUTIVE_DUPLICATES:
            self.stopped = (
                f"the sampler proposed {self.duplicates} candidates in a row that the study "
                "already holds; the space looks exhausted (execution.retrain_duplicates: "
                "true trains them again)"
            )
        return False

    def _close_untrained(self, trial: optuna.Trial, attrs: dict[str, Any]) -> None:
        """Record ``trial`` failed with ``attrs`` without training it, and report it."""
        write_trial(self.storage, trial_id(trial), attrs)
        frozen = self.study.tell(trial, state=TrialState.FAIL)
        self.new_trials += 1
        self.reporter.trial_finished(record_of(frozen), counted_trials(self.study))

    def _exhausted(self) -> bool:
        """Whether the space has nothing new to propose: the grid sampler has run through it,
        or (unless duplicates are retrained) every candidate of a finite space was tried."""
        if self.study.sampler.exhausted:
            return True
        return not self.experiment.execution.retrain_duplicates and tried_all(
            self.study, self.cardinality
        )

    def _stop_reason(self) -> str | None:
        """Why the search ended short of its target, or ``None`` (reached, or out of time)."""
        if self.stopped is not None or self._budget_left() <= 0:
            return self.stopped
        if self._exhausted():
            reason = self.study.sampler.stop_reason
            return reason or "the space is exhausted: every candidate it has was tried"
        return None

    def _record(self, outcome: TrialOutcome) -> None:
        trial, sizes, submitted = self.in_flight.pop(outcome.trial_number)
        self.heartbeat.trial_ids.discard(trial_id(trial))
        attrs: dict[str, Any] = {
            **outcome.timings,
            **outcome.metrics,
            "device": outcome.device,
            "node": outcome.node,
            "wall_seconds": time.monotonic() - submitted,
            "epochs_run": len(outcome.history),
            "curves": json.dumps(outcome.history, separators=(",", ":")),
            **self.table_attrs,
        }
        if outcome.reason:
            attrs["fail_reason" if outcome.state == "failed" else "prune_reason"] = outcome.reason
        if outcome.traceback:
            attrs["traceback"] = outcome.traceback
        attempt = int(trial.user_attrs.get("attempt", 0))
        retries = self.experiment.execution.retries
        if outcome.state == "failed" and outcome.worker_died and attempt < retries:
            attrs["counts"] = False
            requeue(self.study, self.storage.get_trial(trial_id(trial)), outcome.reason or "")
        state = STATES[outcome.state]
        values = None
        if outcome.state == "complete":
            values = [objective_value(name, outcome, sizes) for name in self.objectives]
            if not all(math.isfinite(v) for v in values):
                state, values = TrialState.FAIL, None
                attrs["fail_reason"] = "non-finite objective value"
            elif self.experiment.artifacts.keep_weights != "none" and outcome.variables is not None:
                attrs["weights"] = save_weights(self.folder, trial.number, outcome.variables)
        intermediate = {}
        metric = self.pruning.report_metric
        if metric is not None and not self.pruning.live:
            intermediate = {int(row["epoch"]): float(row[metric]) for row in outcome.history}
        write_trial(self.storage, trial_id(trial), attrs, intermediate)
        frozen = self.study.tell(trial, values, state=state)
        self.new_trials += 1
        if attrs.get("weights"):
            prune_weight_files(self.study, self.folder, self.experiment.artifacts)
        self.reporter.trial_finished(record_of(frozen), counted_trials(self.study))

    def _close_interrupted(self) -> None:
        """Mark this driver's running trials interrupted and queue their candidates again."""
        # The interrupt may have landed inside a query: start from a clean session.
        reset_connections(self.storage)
        try:
            for number in list(self.in_flight):
                trial = self.in_flight.pop(number)[0]
                write_trial(self.storage, trial_id(trial), INTERRUPTED)
                self.study.tell(trial, state=TrialState.FAIL)
                requeue(self.study, self.storage.get_trial(trial_id(trial)), "interrupted")
        except optuna.exceptions.StorageInternalError:
            # The store refused the write (seen once on SQLite: "database is locked").
            # Trials left running are this dead driver's: the next run recovers them.
            pass


def job_seed(seed: int, number: int) -> int:
    """The seed trial ``number`` of a search seeded ``seed`` trains with (or, in a table's
    per-seed mode, draws its table seed with)."""
    return seed * 100_003 + number


def objective_value(name: str, outcome: TrialOutcome, sizes: dict[str, int]) -> float:
    """The value of objective ``name`` for a finished trial: a size known before training,
    a metric, or a timing."""
    if name in sizes:
        return float(sizes[name])
    if name in outcome.metrics:
        return float(outcome.metrics[name])
    return float(outcome.timings[name])
