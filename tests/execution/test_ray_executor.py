"""The Ray executor on a real local Ray instance: reuse of compiled programs, streamed
pruning, worker deaths, exceptions, time limits and GPU shares.

One Ray instance serves the module (2 CPUs, and 1 GPU declared as a resource only: no GPU is
used, but actors asking for a share of it get the environment a shared GPU needs).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import numpy as np
import optuna
import psutil
import pytest
import ray
from optuna.trial import TrialState

from nas.config import ExecutionSection
from nas.data import Dataset
from nas.execution import TrialJob
from nas.execution.ray import RayExecutor, worker_env
from nas.execution.ray import cluster as ray_cluster
from nas.model import Architecture, Dense
from nas.search import Reporter, counted_trials, load_experiment, run_search
from nas.store import open_storage
from nas.training import TrainConfig

from ..helpers import LONG_TRIALS_SPACE, write_experiment

SMALL = Architecture(layers=(Dense(16),), batch_size=32, learning_rate=3e-3)
WIDER = Architecture(layers=(Dense(32),), batch_size=32, learning_rate=3e-3)


@pytest.fixture(scope="module")
def ray_session():
    session = ray_cluster.connect(num_cpus=2, num_gpus=1)
    yield session
    session.close()
    # Shut down means gone: no process of the instance holds its session folder any more.
    assert session.session_dir is not None
    deadline = time.monotonic() + 30
    while _holders(session.session_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _holders(session.session_dir)


def _holders(folder) -> list[int]:
    """Processes other than this one (the driver keeps its own log files open) with files
    open in ``folder``."""
    prefix = str(folder) + os.sep
    pids = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            if any(f.path.startswith(prefix) for f in proc.open_files()):
                pids.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return pids


def _run(executor: RayExecutor, jobs: list[TrialJob], on_epoch=None) -> dict[int, object]:
    """Submit ``jobs`` and wait for all their outcomes (by trial number)."""
    for job in jobs:
        executor.submit(job)
    outcomes = {}
    while executor.in_flight():
        for outcome in executor.wait(on_epoch or (lambda n, e, m: False), timeout=None):
            outcomes[outcome.trial_number] = outcome
    return outcomes


def _study(exp):
    return optuna.load_study(study_name=exp.study, storage=open_storage(exp.storage))


def test_local_instance_listens_on_loopback_only(ray_session):
    assert ray_session.started and ray_session.address.startswith("127.0.0.1:")
    listening = set()
    for pid in _holders(ray_session.session_dir):
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        listening |= {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN}
    assert listening and listening <= {"127.0.0.1", "::ffff:127.0.0.1"}


def test_worker_keeps_compiled_programs_across_trials(ray_session, synthetic):
    """Trials of one signature on one long-lived worker trace their programs once."""
    jobs = [
        TrialJob(0, SMALL.to_json(), seed=0),
        TrialJob(1, replace(SMALL, learning_rate=1e-2).to_json(), seed=1),
        TrialJob(2, WIDER.to_json(), seed=2),
        TrialJob(3, replace(SMALL, weight_decay=1e-3).to_json(), seed=3),
    ]
    with RayExecutor(synthetic, TrainConfig(epochs=2), ExecutionSection(workers=1)) as executor:
        outcomes = _run(executor, jobs)
        (counts,) = executor.trace_counts()
        (info,) = executor.worker_info()
    assert all(o.state == "complete" for o in outcomes.values())
    assert counts[(SMALL.signature(), "train")] == 1
    assert counts[(SMALL.signature(), "eval")] == 1
    assert counts[(WIDER.signature(), "train")] == 1
    assert outcomes[0].timings["compile_seconds"] > 0
    assert outcomes[1].timings["compile_seconds"] == 0
    assert outcomes[3].timings["compile_seconds"] == 0
    # Weights come back as numpy arrays; the node is the worker's Ray node.
    assert isinstance(outcomes[0].variables["params"]["head"]["kernel"], np.ndarray)
    assert (
        {o.node for o in outcomes.values()}
        == {info["node"]}
        == {ray.get_runtime_context().get_node_id()}
    )
    assert info["device"] == "cpu" and info["pid"] != os.getpid()


def test_stop_lands_within_one_epoch(ray_session, synthetic):
    """A worker runs at most one epoch past the driver's decision, however fast epochs are."""
    seen: list[int] = []

    def stop_at_3(number: int, epoch: int, metrics: dict[str, float]) -> bool:
        seen.append(epoch)
        return epoch >= 3

    with RayExecutor(synthetic, TrainConfig(epochs=100_000), ExecutionSection(workers=1)) as ex:
        outcome = _run(ex, [TrialJob(0, SMALL.to_json(), seed=0)], on_epoch=stop_at_3)[0]
    assert outcome.state == "pruned"
    assert len(outcome.history) in (3, 4)
    assert seen == [row["epoch"] for row in outcome.history]  # each epoch reported once


def test_pruned_trials_stop_on_their_workers(ray_session, tmp_path):
    epochs = 30
    exp = load_experiment(
        write_experiment(
            tmp_path,
            trials=8,
            training=f"{{epochs: {epochs}}}",
            pruner="{name: median, n_startup_trials: 2, n_warmup_steps: 1}",
            execution="{workers: 2}",
            space=SPACE_LR,
        )
    )
    summary = run_search(exp)
    study = _study(exp)
    assert summary.counted == 8
    pruned = study.get_trials(states=(TrialState.PRUNED,))
    assert any(t.user_attrs["epochs_run"] < epochs for t in pruned), (
        "a median pruner over these learning rates stops some trials early"
    )
    for t in pruned:
        # Recorded with its last value: that of the last epoch its worker ran.
        last = max(t.intermediate_values)
        assert last == t.user_attrs["epochs_run"]
        assert t.value == t.intermediate_values[last]
    node = ray.get_runtime_context().get_node_id()
    assert {t.user_attrs["node"] for t in study.trials} == {node}


SPACE_LR = """
name: lr
input: flat
layers:
  - type: dense
    features: 16
optimizer:
  learning_rate: {low: 1.0e-6, high: 1.0e-1, log: true}
  batch_size: 32
"""


SPACE_SMALL_BATCHES = LONG_TRIALS_SPACE


class _KillWorkerOnce(Reporter):
    """Kills the process of the worker running the first trial, at that trial's first epoch,
    and notes the workers' processes once the dead one is replaced."""

    def __init__(self, holder: dict) -> None:
        self.holder = holder
        self.killed: dict[str, int] = {}
        self.pids_after: list[int] = []

    def epoch(self, number: int, epoch: int, metrics: dict[str, float]) -> None:
        if self.killed:
            return
        executor = self.holder["executor"]
        slot = executor.slot_of(number)
        pid = executor.worker_info()[slot]["pid"]
        os.kill(pid, signal.SIGKILL)
        self.killed = {"trial": number, "slot": slot, "pid": pid}

    def trial_finished(self, trial, counted: int) -> None:
        if self.killed and trial.number == self.killed["trial"]:
            self.pids_after = [info["pid"] for info in self.holder["executor"].worker_info()]


def test_killed_worker_fails_trial_and_retries_candidate(ray_session, tmp_path):
    # Wide layers and small batches make epochs long enough that the kill lands mid-trial.
    exp = load_experiment(
        write_experiment(
            tmp_path,
            trials=3,
            training="{epochs: 150}",
            execution="{workers: 2}",
            space=SPACE_SMALL_BATCHES,
        )
    )
    holder: dict = {}

    def factory(experiment, data, config):
        holder["executor"] = RayExecutor(data, config, experiment.execution)
        return holder["executor"]

    reporter = _KillWorkerOnce(holder)
    summary = run_search(exp, reporter=reporter, executor_factory=factory)
    killed = reporter.killed
    assert killed and summary.counted == 3
    study = _study(exp)
    died = study.trials[killed["trial"]]
    assert died.state == TrialState.FAIL
    assert died.user_attrs["fail_reason"].startswith("worker died: ")
    assert died.user_attrs["counts"] is False
    (retry,) = [t for t in study.trials if t.user_attrs.get("retry_of") == died.number]
    assert retry.state == TrialState.COMPLETE and retry.params == died.params
    assert retry.user_attrs["attempt"] == 1
    assert counted_trials(study) == 3
    # A new process took the dead worker's place.
    assert reporter.pids_after and killed["pid"] not in reporter.pids_after


class _BreakFirstJob(RayExecutor):
    """Sends the first job with an unreadable architecture, so it raises on its worker."""

    def submit(self, job: TrialJob) -> None:
        if job.trial_number == 0:
            job = replace(job, architecture='{"layers": [')
        super().submit(job)


def test_trial_that_raises_keeps_reason_and_traceback(ray_session, tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=3, execution="{workers: 2}"))
    summary = run_search(exp, executor_factory=lambda e, d, c: _BreakFirstJob(d, c, e.execution))
    study = _study(exp)
    broken = study.trials[0]
    assert broken.state == TrialState.FAIL
    reason = broken.user_attrs["fail_reason"]
    assert "\n" not in reason and reason.startswith("ArchitectureError: not valid JSON")
    assert "Traceback (most recent call last)" in broken.user_attrs["traceback"]
    assert summary.counted == 3
    assert [t.state for t in study.trials[1:]] == [TrialState.COMPLETE] * 2


def test_timeout_stops_trial_cooperatively(ray_session, synthetic):
    execution = ExecutionSection(workers=1, trial_timeout=1.0)
    with RayExecutor(synthetic, TrainConfig(epochs=100_000), execution) as executor:
        (before,) = executor.worker_info()
        outcomes = _run(executor, [TrialJob(0, SMALL.to_json(), seed=0)])
        (after,) = executor.worker_info()
    outcome = outcomes[0]
    assert outcome.state == "failed" and outcome.reason == "timeout after 1 s"
    assert 0 < len(outcome.history) < 100_000 and not outcome.worker_died
    assert after["pid"] == before["pid"], "stopped at an epoch end: the worker lives on"


def test_timeout_restarts_a_worker_that_cannot_stop(ray_session, synthetic):
    """An epoch far longer than the limit and its grace: the worker is killed and replaced."""
    # One compiled call runs a whole epoch, so it must be long in compute, not in steps:
    # 40,000 single-example steps through two 2048-wide layers take tens of seconds.
    rows = 40_000
    repeat = np.resize(np.arange(len(synthetic.x_train)), rows)
    big = Dataset(
        name="big",
        x_train=synthetic.x_train[repeat],
        y_train=synthetic.y_train[repeat],
        x_val=synthetic.x_val,
        y_val=synthetic.y_val,
        x_test=synthetic.x_test,
        y_test=synthetic.y_test,
        num_classes=synthetic.num_classes,
        class_names=synthetic.class_names,
    )
    one_by_one = replace(SMALL, layers=(Dense(2048), Dense(2048)), batch_size=1)
    execution = ExecutionSection(workers=1, trial_timeout=0.5)
    with RayExecutor(big, TrainConfig(epochs=1), execution, stop_grace=1.0) as executor:
        (before,) = executor.worker_info()
        outcomes = _run(executor, [TrialJob(0, one_by_one.to_json(), seed=0)])
        (after,) = executor.worker_info()
    outcome = outcomes[0]
    assert outcome.state == "failed" and outcome.reason == "timeout after 0.5 s"
    assert outcome.history == [] and not outcome.worker_died
    assert after["pid"] != before["pid"]


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.0, {}),
        (1.0, {}),
        (2.0, {}),
        (
            0.5,
            {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.450"},
        ),
        (
            0.25,
            {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225"},
        ),
    ],
)
def test_worker_env_for_gpu_shares(share, expected):
    assert worker_env(share) == expected


def test_workers_sharing_a_gpu_get_memory_fractions(ray_session, synthetic):
    execution = ExecutionSection(workers=2, cpus_per_trial=1, gpus_per_trial=0.5)
    with RayExecutor(synthetic, TrainConfig(epochs=1), execution) as executor:
        infos = executor.worker_info()
        outcomes = _run(executor, [TrialJob(0, SMALL.to_json(), seed=0)])
    assert len({info["pid"] for info in infos}) == 2
    for info in infos:
        assert info["env"] == worker_env(0.5)
    assert outcomes[0].state == "complete"


def test_timed_out_trials_are_recorded_failed(ray_session, tmp_path):
    exp = load_experiment(
        write_experiment(
            tmp_path,
            trials=2,
            training="{epochs: 100000}",
            execution="{workers: 1, trial_timeout: 0.5}",
        )
    )
    summary = run_search(exp)
    study = _study(exp)
    assert summary.counted == 2
    for t in study.trials:
        assert t.state == TrialState.FAIL
        assert t.user_attrs["fail_reason"] == "timeout after 0.5 s"
        assert 0 < t.user_attrs["epochs_run"] < 100000
