"""Running one job on whatever process holds a trainer: the code every executor shares."""

from __future__ import annotations

import socket
import traceback

import jax

from nas.errors import TrialFailed
from nas.execution.job import TrialJob, TrialOutcome
from nas.model import Architecture
from nas.training import EpochCallback, Trainer, TrainingData


def device_name() -> str:
    """The accelerator this process trains on, e.g. ``cpu`` or ``gpu:NVIDIA H100``."""
    device = jax.devices()[0]
    if device.platform == "cpu":
        return "cpu"
    return f"{device.platform}:{device.device_kind}"


def run_trial(
    trainer: Trainer, job: TrialJob, data: TrainingData, on_epoch: EpochCallback | None = None
) -> TrialOutcome:
    """Train ``job``'s architecture; never raises for a trial's own failure.

    A :class:`TrialFailed` gives a failed outcome with its reason; any other exception a failed
    outcome with a one-line reason and the traceback. ``KeyboardInterrupt`` propagates.
    """
    base = {"trial_number": job.trial_number, "device": device_name(), "node": socket.gethostname()}
    try:
        arch = Architecture.from_json(job.architecture)
        result = trainer.train(arch, data, seed=job.seed, on_epoch=on_epoch)
    except TrialFailed as err:
        return TrialOutcome(state="failed", reason=err.reason, **base)
    except Exception as err:  # a trial's bug must not end the search
        reason = f"{type(err).__name__}: {err}".splitlines()[0][:500]
        return TrialOutcome(state="failed", reason=reason, traceback=traceback.format_exc(), **base)
    return TrialOutcome(
        state="pruned" if result.stopped else "complete",
        metrics=result.metrics,
        history=result.history,
        timings=result.timings,
        variables=result.variables,
        reason=f"pruned at epoch {result.epochs_run}" if result.stopped else None,
        **base,
    )
