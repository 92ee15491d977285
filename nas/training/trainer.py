"""Compile-aware training of one architecture on one dataset.

Knows nothing of Optuna or Ray. A :class:`Trainer` keeps its compiled programs keyed by the
architecture's *signature* (plus the data shapes), so a second candidate with the same shapes
reuses the training and evaluation programs of the first: learning rate, weight decay,
dropout rates and the seed enter them as traced arrays. What dominates a small model's cost on
a CPU is compilation, so: initial weights are drawn on the host (:mod:`nas.model.init`, nothing to
compile); each step gathers its mini-batch from the device-resident training set, and one
compiled call runs one step or a loop over many (a whole epoch for a small dense network, so
the host dispatches once per epoch), as :mod:`nas.training.strategy` chooses per candidate
from measurements; dropout masks come from a counter hash, whose code compiles far faster than
threefry's; evaluation is one compiled call per fixed-size batch, so sets of any size share
it; and a short run on a CPU is compiled for compile speed (:mod:`nas.training.xla_options`).
The programs themselves are built in :mod:`nas.training.programs`.
"""

from __future__ import annotations

import collections
import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import jax
import jax.numpy as jnp
import numpy as np

from nas.errors import TrialFailed
from nas.model import Architecture, init_variables
from nas.training.optim import with_hyperparams
from nas.training.programs import ProgramCache, ProgramCompiler, Programs
from nas.training.xla_cache import enable_compilation_cache

EpochCallback = Callable[[int, dict[str, float]], bool | None]
"""Called after each epoch (1-based) with that epoch's metrics; returning True stops training."""


class TrainingData(Protocol):
    """What training reads of a dataset (a :class:`nas.data.Dataset` is one): features with
    the batch axis first, integer labels in ``0..num_classes-1``."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    num_classes: int


@dataclass(frozen=True)
class TrainConfig:
    """What a trainer needs beyond the architecture: epochs and the evaluation batch size."""

    epochs: int
    eval_batch_size: int = 512


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.train`.

    ``metrics``: ``train_loss``, ``val_loss``, ``val_accuracy`` of the last epoch run.
    ``history``: one dict of those metrics per epoch run (``epoch`` 1-based).
    ``timings``: ``compile_seconds`` (zero when every program was cached), ``train_seconds``,
    ``eval_seconds``. ``variables``: trained ``params`` (+ ``batch_stats``) as numpy arrays.
    ``stopped``: True when the callback ended training early.
    """

    metrics: dict[str, float]
    history: list[dict[str, float]]
    timings: dict[str, float]
    variables: dict[str, Any]
    epochs_run: int
    stopped: bool = False


def _initial_state(programs: Programs, arch: Architecture, seed: int):
    """The device-resident epoch state ``((flat params, extra), optimizer state, loss sum)``."""
    variables = init_variables(programs.variable_shapes, seed)
    flat = programs.layout.ravel(variables.pop("params"))
    opt_state = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), programs.opt_shape)
    opt_state = with_hyperparams(opt_state, arch.learning_rate, arch.weight_decay)
    return jax.device_put(((flat, variables), opt_state, np.float32(0.0)))


@dataclass
class Trainer:
    """Trains architectures, compiling at most one set of programs per signature.

    ``trace_counts[(signature, program)]`` counts how often each program (``"epoch"``,
    ``"eval"``) was traced; tests use it to prove reuse.
    """

    config: TrainConfig
    trace_counts: collections.Counter = field(default_factory=collections.Counter)
    _programs: ProgramCache = field(init=False, repr=False)

    def __post_init__(self) -> None:
        enable_compilation_cache()
        compiler = ProgramCompiler(
            self.config.epochs, self.config.eval_batch_size, self.trace_counts
        )
        self._programs = ProgramCache(compiler)

    def prepare(self, arch: Architecture, data: TrainingData) -> None:
        """Start compiling ``arch``'s programs in the background (no-op when cached), so a
        later :meth:`train` of it finds them ready; XLA compiles without holding the GIL."""
        self._programs.schedule(
            arch,
            jnp.asarray(data.x_train, jnp.float32),
            jnp.asarray(data.y_train, jnp.int32),
            int(data.num_classes),
            claim=False,
        )

    def train(
        self,
        arch: Architecture,
        data: TrainingData,
        *,
        seed: int = 0,
        on_epoch: EpochCallback | None = None,
    ) -> TrainResult:
        """Train ``arch`` on ``data`` for ``config.epochs`` epochs.

        Raises :class:`nas.errors.TrialFailed` on a non-finite training loss
        (``non-finite loss at epoch N``) or when the training set is smaller than one batch.
        """
        x_train = jnp.asarray(data.x_train, jnp.float32)
        y_train = jnp.asarray(data.y_train, jnp.int32)
        steps = x_train.shape[0] // arch.batch_size
        if steps < 1:
            raise TrialFailed(
                f"batch size {arch.batch_size} exceeds the {x_train.shape[0]} training examples"
            )
        future, fresh = self._programs.schedule(arch, x_train, y_train, int(data.num_classes))
        programs = future.result()
        # A program compiled for this trial (here or ahead of time) counts as its cost.
        compile_seconds = programs.compile_seconds if fresh else 0.0

        rates = np.asarray(arch.dropout_rates(), np.float32)
        state = _initial_state(programs, arch, seed)
        seed_arr = np.uint32(seed % 2**32)
        order_rng = np.random.default_rng(seed)
        n = x_train.shape[0]
        history: list[dict[str, float]] = []
        train_seconds = eval_seconds = 0.0
        stopped = False
        try:
            for epoch in range(1, self.config.epochs + 1):
                start = time.perf_counter()
                order = order_rng.permutation(n)[: steps * arch.batch_size].astype(np.int32)
                order = order.reshape(steps, arch.batch_size)
                first_step = (epoch - 1) * steps
                state = programs.train_epoch(
                    state, x_train, y_train, order, seed_arr, first_step, rates
                )
                train_loss = float(state[2]) / steps
                train_seconds += time.perf_counter() - start
                if not math.isfinite(train_loss):
                    raise TrialFailed(f"non-finite loss at epoch {epoch}")
                start = time.perf_counter()
                val = programs.evaluate(state[0], data.x_val, data.y_val)
                eval_seconds += time.perf_counter() - start
                row = {"epoch": epoch, "train_loss": train_loss, **val}
                history.append(row)
                if on_epoch is not None and on_epoch(epoch, dict(row)):
                    stopped = True
                    break
        except BaseException:
            # Epochs run asynchronously: never let an interrupt leave a computation running on
            # buffers that are freed while it runs (a crash at exit).
            # The interrupt may come after an epoch took the donated state and before its
            # result was bound; those buffers are gone, and the interrupt must still win.
            with contextlib.suppress(Exception):
                jax.block_until_ready(state)
            raise
        last = history[-1]
        return TrainResult(
            metrics={k: last[k] for k in ("train_loss", "val_loss", "val_accuracy")},
            history=history,
            timings={
                "compile_seconds": compile_seconds,
                "train_seconds": train_seconds,
                "eval_seconds": eval_seconds,
            },
            variables=programs.layout.variables(state[0]),
            epochs_run=len(history),
            stopped=stopped,
        )

    def evaluate(
        self,
        arch: Architecture,
        variables: dict[str, Any],
        x: np.ndarray,
        y: np.ndarray,
        num_classes: int,
    ) -> dict[str, float]:
        """``{"loss", "accuracy"}`` of trained ``variables`` on ``(x, y)`` (eval mode)."""
        programs = self._programs.evaluation(arch, x.shape[1:], num_classes)
        extra = {k: v for k, v in variables.items() if k != "params"}
        packed = (programs.layout.ravel(variables["params"]), extra)
        out = programs.evaluate(packed, x, y)
        return {"loss": out["val_loss"], "accuracy": out["val_accuracy"]}
