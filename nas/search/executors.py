"""Choosing the executor an experiment asks for."""

from __future__ import annotations

from nas.config import Experiment, ray_address
from nas.data import Dataset
from nas.execution import Executor, LocalExecutor, TableExecutor
from nas.training import TrainConfig


def make_executor(experiment: Experiment, data: Dataset, config: TrainConfig) -> Executor:
    """:class:`~nas.execution.TableExecutor` where the dataset is a benchmark table;
    :class:`~nas.execution.LocalExecutor` (``execution.lookahead`` candidates ahead) for
    one worker, no cluster address and no ``trial_timeout`` (no Ray start-up cost), else
    :class:`~nas.execution.ray.RayExecutor` (a time limit needs a worker process that can be
    killed). The cluster address is :func:`nas.config.ray_address`'s: the file's or flag's,
    else ``RAY_ADDRESS``."""
    execution = experiment.execution
    spec = experiment.data_spec
    if spec.table is not None:
        # Nothing to train: the driver's process answers, holding as many candidates at a
        # time as the workers asked for.
        return TableExecutor(spec.table, spec.lookup, slots=execution.workers)
    address = ray_address(execution)
    if execution.workers == 1 and address is None and execution.trial_timeout is None:
        return LocalExecutor(data, config, ahead=execution.lookahead)
    import dataclasses

    from nas.execution.ray import RayExecutor

    placement = dataclasses.replace(execution, address=address)
    return RayExecutor(data, config, placement, source=experiment.path)
