"""Compile-aware training of one architecture on one dataset.

Knows nothing of Optuna or Ray. A :class:`Trainer` keeps its compiled programs keyed by the
architecture's *signature* (plus the data shapes), so a second candidate with the same shapes
reuses the training and evaluation programs of the first: learning rate, weight decay,
dropout rates and the seed enter them as traced arrays. What dominates a small model's cost on
a CPU is compilation, so: initial weights are drawn on the host (:mod:`nas.init`, nothing to
compile); one compiled call runs a whole epoch (a ``fori_loop`` over its steps, each gathering
its mini-batch from the device-resident training set), so the host dispatches once per epoch,
not once per step; dropout masks come from a counter hash, whose code compiles far faster than
threefry's; evaluation is one compiled call per fixed-size batch, so sets of any size share
it; and a short run on a CPU is compiled for compile speed (:mod:`nas.xla_options`).
"""

from __future__ import annotations

import collections
import contextlib
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nas.architecture import Architecture
from nas.builder import build_model, layer_seed
from nas.errors import TrialFailed
from nas.init import init_variables
from nas.optim import make_optimizer, with_hyperparams
from nas.stats import candidate_variable_shapes, forward_flops
from nas.xla_cache import enable_compilation_cache
from nas.xla_options import compiler_options, training_flops

EpochCallback = Callable[[int, dict[str, float]], bool | None]
"""Called after each epoch (1-based) with that epoch's metrics; returning True stops training."""


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


def _mix_seed(seed, counter):
    """A uint32 dropout seed per step from the trial's seed and the step counter."""
    h = jnp.asarray(seed, jnp.uint32) * jnp.uint32(0x9E3779B1) + counter.astype(jnp.uint32)
    return layer_seed(h, 0)


@dataclass(frozen=True)
class _Layout:
    """Where each parameter lives in the flat vector the compiled programs work on."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int

    @classmethod
    def of(cls, tree: Any) -> _Layout:
        leaves, treedef = jax.tree.flatten(tree)
        shapes = tuple(tuple(leaf.shape) for leaf in leaves)
        sizes = [math.prod(shape) for shape in shapes]
        offsets = tuple(int(o) for o in np.cumsum([0, *sizes[:-1]]))
        return cls(treedef, shapes, offsets, int(sum(sizes)))

    def unravel(self, flat):
        """Parameter tree from a flat vector (numpy or traced)."""
        leaves = [
            flat[o : o + math.prod(shape)].reshape(shape)
            for o, shape in zip(self.offsets, self.shapes, strict=True)
        ]
        return jax.tree.unflatten(self.treedef, leaves)

    def ravel(self, tree: Any) -> np.ndarray:
        leaves = jax.tree.leaves(tree)
        return np.concatenate([np.asarray(leaf, np.float32).ravel() for leaf in leaves])

    def variables(self, packed: Any) -> dict[str, Any]:
        """``{"params": tree, **extra}`` as numpy arrays from ``(flat, extra)``."""
        flat, extra = packed
        out = {"params": self.unravel(np.asarray(flat))}
        out.update(jax.tree.map(np.asarray, extra))
        return out


@dataclass
class _Programs:
    model: Any
    variable_shapes: dict[str, Any]
    layout: _Layout
    opt_shape: Any
    epoch: Any
    eval_batch: Any
    compile_seconds: float = 0.0


@dataclass
class Trainer:
    """Trains architectures, compiling at most one set of programs per signature.

    ``trace_counts[(signature, program)]`` counts how often each program was traced; tests
    use it to prove reuse.
    """

    config: TrainConfig
    trace_counts: collections.Counter = field(default_factory=collections.Counter)
    _cache: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _claimed: set[tuple] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        enable_compilation_cache()

    def prepare(self, arch: Architecture, data: Any) -> None:
        """Start compiling ``arch``'s programs in the background (no-op when cached), so a
        later :meth:`train` of it finds them ready; XLA compiles without holding the GIL."""
        self._schedule(
            arch,
            jnp.asarray(data.x_train, jnp.float32),
            jnp.asarray(data.y_train, jnp.int32),
            int(data.num_classes),
            claim=False,
        )

    def _schedule(
        self, arch, x_train, y_train, num_classes: int, claim: bool = True
    ) -> tuple[Future, bool]:
        """The (possibly running) compilation for this signature and data shape, and whether
        this call is the first to claim it (the first trial to train it reports its cost)."""
        key = (arch.signature(), tuple(x_train.shape), num_classes)
        with self._lock:
            future = self._cache.get(key)
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="compile")
                future = self._pool.submit(self._compile, arch, x_train, y_train, num_classes)
                self._cache[key] = future
            fresh = claim and key not in self._claimed
            if claim:
                self._claimed.add(key)
        return future, fresh

    def train(
        self,
        arch: Architecture,
        data: Any,
        *,
        seed: int = 0,
        on_epoch: EpochCallback | None = None,
    ) -> TrainResult:
        """Train ``arch`` on ``data`` (an object with ``x_train, y_train, x_val, y_val,
        num_classes``) for ``config.epochs`` epochs.

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
        future, fresh = self._schedule(arch, x_train, y_train, int(data.num_classes))
        programs = future.result()
        # A program compiled for this trial (here or ahead of time) counts as its cost.
        compile_seconds = programs.compile_seconds if fresh else 0.0

        rates = np.asarray(arch.dropout_rates(), np.float32)
        variables = init_variables(programs.variable_shapes, seed)
        flat = programs.layout.ravel(variables.pop("params"))
        opt_state = jax.tree.map(lambda s: np.zeros(s.shape, s.dtype), programs.opt_shape)
        opt_state = with_hyperparams(opt_state, arch.learning_rate, arch.weight_decay)
        state = jax.device_put(((flat, variables), opt_state, np.float32(0.0)))
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
                first_step = np.int32((epoch - 1) * steps)
                state = programs.epoch(state, x_train, y_train, order, seed_arr, first_step, rates)
                train_loss = float(state[2]) / steps
                train_seconds += time.perf_counter() - start
                if not math.isfinite(train_loss):
                    raise TrialFailed(f"non-finite loss at epoch {epoch}")
                start = time.perf_counter()
                val = self._evaluate(programs, state[0], data.x_val, data.y_val)
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
        programs = self._eval_programs(arch, x.shape[1:], num_classes)
        extra = {k: v for k, v in variables.items() if k != "params"}
        packed = (programs.layout.ravel(variables["params"]), extra)
        out = self._evaluate(programs, packed, x, y)
        return {"loss": out["val_loss"], "accuracy": out["val_accuracy"]}

    # -- compiled programs -------------------------------------------------------------

    def _eval_programs(self, arch: Architecture, input_shape: tuple, num_classes: int):
        """Evaluation alone (trained weights on a test set): compiled like a short run's."""
        key = ("eval", arch.signature(), tuple(input_shape), num_classes)
        if key not in self._cache:
            model = build_model(arch, num_classes)
            shapes = candidate_variable_shapes(arch, tuple(input_shape), num_classes)
            layout = _Layout.of(shapes["params"])
            options = compiler_options(jax.default_backend(), 0.0, program="eval")
            self._cache[key] = _Programs(
                model=model,
                variable_shapes=shapes,
                layout=layout,
                opt_shape=None,
                epoch=None,
                eval_batch=self._compile_eval(
                    arch, model, tuple(input_shape), shapes, layout, options
                ),
            )
        return self._cache[key]

    def _compile_eval(
        self,
        arch: Architecture,
        model,
        input_shape: tuple,
        shapes: dict,
        layout: _Layout,
        options: dict,
    ) -> tuple[Any, int]:
        """The evaluation program compiled ahead of time, and its batch size."""
        eval_j, size = self._make_eval(arch, model, input_shape, layout)
        flat_shape = jax.ShapeDtypeStruct((layout.size,), jnp.float32)
        extra_shape = {k: v for k, v in shapes.items() if k != "params"}
        compiled = eval_j.lower(
            (flat_shape, extra_shape),
            jax.ShapeDtypeStruct((size, *input_shape), jnp.float32),
            jax.ShapeDtypeStruct((size,), jnp.int32),
            jax.ShapeDtypeStruct((size,), jnp.float32),
        ).compile(compiler_options=options)
        return compiled, size

    def _make_eval(self, arch: Architecture, model, input_shape: tuple, layout: _Layout):
        signature = arch.signature()
        size = self.config.eval_batch_size

        def eval_batch(packed, x, y, mask):
            self.trace_counts[(signature, "eval")] += 1
            flat, extra = packed
            logits = model.apply({"params": layout.unravel(flat), **extra}, x, train=False)
            losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
            correct = (jnp.argmax(logits, -1) == y).astype(jnp.float32)
            return jnp.sum(losses * mask), jnp.sum(correct * mask)

        return jax.jit(eval_batch), size

    def _compile(self, arch: Architecture, x_train, y_train, num_classes: int) -> _Programs:
        signature = arch.signature()
        model = build_model(arch, num_classes)
        optimizer = make_optimizer(arch.optimizer)
        input_shape = tuple(x_train.shape[1:])
        batch = arch.batch_size
        n_rates = len(arch.layers)
        start = time.perf_counter()
        variables_shape = candidate_variable_shapes(arch, input_shape, num_classes)
        layout = _Layout.of(variables_shape["params"])
        flat_shape = jax.ShapeDtypeStruct((layout.size,), jnp.float32)
        extra_shape = {k: v for k, v in variables_shape.items() if k != "params"}
        opt_shape = jax.eval_shape(optimizer.init, flat_shape)

        def loss_fn(flat, extra, x, y, rates, step_seed):
            logits, updates = model.apply(
                {"params": layout.unravel(flat), **extra},
                x,
                train=True,
                dropout_rates=rates,
                dropout_seed=step_seed,
                mutable=["batch_stats"],
            )
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, updates

        def step(state, x_all, y_all, idx, seed, counter, rates):
            (flat, extra), opt_state, loss_sum = state
            step_seed = _mix_seed(seed, counter)
            (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                flat, extra, x_all[idx], y_all[idx], rates, step_seed
            )
            # One flat vector: the optimizer update compiles to a few kernels, not per-leaf ones.
            upd, opt_state = optimizer.update(grads, opt_state, flat)
            extra = {**extra, **updates}
            return (optax.apply_updates(flat, upd), extra), opt_state, loss_sum + loss

        def epoch(state, x_all, y_all, order, seed, first_step, rates):
            """One pass over ``order`` (steps x batch indices); the loss slot restarts at 0."""
            self.trace_counts[(signature, "epoch")] += 1

            def body(i, st):
                return step(st, x_all, y_all, order[i], seed, first_step + i, rates)

            state = (state[0], state[1], jnp.zeros((), jnp.float32))
            return jax.lax.fori_loop(0, order.shape[0], body, state)

        scalar = jax.ShapeDtypeStruct((), jnp.float32)
        steps = int(x_train.shape[0]) // batch
        flops = forward_flops(arch, input_shape, num_classes)
        run_flops = training_flops(flops, steps * batch, self.config.epochs)
        backend = jax.default_backend()
        epoch_lowered = jax.jit(epoch, donate_argnums=(0,)).lower(
            ((flat_shape, extra_shape), opt_shape, scalar),
            x_train,
            y_train,
            jax.ShapeDtypeStruct((steps, batch), jnp.int32),
            jax.ShapeDtypeStruct((), jnp.uint32),
            jax.ShapeDtypeStruct((), jnp.int32),
            jax.ShapeDtypeStruct((n_rates,), jnp.float32),
        )
        # Compiled ahead of time (so compile seconds are measured apart from training). XLA
        # compiles without the GIL: the training program, the longest compile, starts while
        # Python still lowers the evaluation program.
        with ThreadPoolExecutor(max_workers=1) as pool:
            epoch_future = pool.submit(
                epoch_lowered.compile, compiler_options=compiler_options(backend, run_flops)
            )
            eval_batch = self._compile_eval(
                arch,
                model,
                input_shape,
                variables_shape,
                layout,
                compiler_options(backend, run_flops, program="eval"),
            )
            epoch_c = epoch_future.result()
        return _Programs(
            model=model,
            variable_shapes=variables_shape,
            layout=layout,
            opt_shape=opt_shape,
            epoch=epoch_c,
            eval_batch=eval_batch,
            compile_seconds=time.perf_counter() - start,
        )

    @staticmethod
    def _evaluate(programs: _Programs, packed, x, y) -> dict[str, float]:
        """Mean loss and accuracy over ``(x, y)``; ``packed`` is ``(flat params, extra)``."""
        eval_batch, size = programs.eval_batch
        x = np.asarray(x, np.float32)
        y = np.asarray(y, np.int32)
        n = x.shape[0]
        total_loss = total_correct = 0.0
        for start in range(0, n, size):
            xb, yb = x[start : start + size], y[start : start + size]
            count = xb.shape[0]
            mask = np.zeros((size,), np.float32)
            mask[:count] = 1.0
            if count < size:
                xb = np.concatenate([xb, np.zeros((size - count, *x.shape[1:]), np.float32)])
                yb = np.concatenate([yb, np.zeros((size - count,), np.int32)])
            loss, correct = eval_batch(packed, xb, yb, mask)
            total_loss += float(loss)
            total_correct += float(correct)
        return {"val_loss": total_loss / n, "val_accuracy": total_correct / n}
