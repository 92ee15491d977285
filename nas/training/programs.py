"""A candidate's compiled programs, and the cache that compiles each signature once.

:class:`ProgramCompiler` builds and compiles, ahead of time, the training program (one step,
or a loop over ``k`` steps: :mod:`nas.training.strategy` chooses) and the fixed-batch
evaluation program of one architecture; learning rate, weight decay,
dropout rates and the seed are traced inputs, so every candidate with the same signature and
data shapes can run them. :class:`ProgramCache` keeps one compilation per signature and data
shape, started on a small thread pool, and remembers which compilations a trial has claimed.
"""

from __future__ import annotations

import collections
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from nas.model import (
    Architecture,
    build_model,
    candidate_variable_shapes,
    forward_flops,
    layer_seed,
)
from nas.training.layout import ParamLayout
from nas.training.optim import make_optimizer
from nas.training.strategy import steps_per_call
from nas.training.xla_options import compiler_options, training_flops


def _mix_seed(seed, counter):
    """A uint32 dropout seed per step from the trial's seed and the step counter."""
    h = jnp.asarray(seed, jnp.uint32) * jnp.uint32(0x9E3779B1) + counter.astype(jnp.uint32)
    return layer_seed(h, 0)


def _extra(shapes: dict[str, Any]) -> dict[str, Any]:
    """The variable collections other than ``params`` (batch statistics)."""
    return {k: v for k, v in shapes.items() if k != "params"}


@dataclass
class Programs:
    """One candidate's compiled programs and what running them needs.

    ``train``: the compiled training call, ``steps_per_call`` steps each: for one step
    ``(state, x_train, y_train, indices, seed, step, rates) -> state``; for ``k`` steps
    ``(state, x_train, y_train, order, count, seed, first_step, rates) -> state`` running the
    first ``count`` rows of ``order`` (``k`` x batch indices). ``state`` is
    ``((flat params, extra), optimizer state, loss sum)`` and is donated. None for evaluation
    alone. ``eval_batch``: ``(compiled, batch size)``. ``compile_seconds``: what compiling
    them took.
    """

    model: Any
    variable_shapes: dict[str, Any]
    layout: ParamLayout
    opt_shape: Any
    train: Any
    eval_batch: Any
    compile_seconds: float = 0.0
    steps_per_call: int = 1

    def train_epoch(self, state, x_train, y_train, order: np.ndarray, seed, first_step: int, rates):
        """One epoch over ``order`` (steps x batch indices) in calls of ``steps_per_call``
        steps; the state's loss sum restarts at 0, so it ends as the epoch's sum."""
        state = (state[0], state[1], np.float32(0.0))
        steps, k = order.shape[0], self.steps_per_call
        if k == 1:
            for i in range(steps):
                step = np.int32(first_step + i)
                state = self.train(state, x_train, y_train, order[i], seed, step, rates)
            return state
        for start in range(0, steps, k):
            rows = order[start : start + k]
            count = rows.shape[0]
            if count < k:
                # The last call of an epoch whose steps k does not divide: padded, not run.
                rows = np.concatenate([rows, np.zeros((k - count, rows.shape[1]), rows.dtype)])
            step = np.int32(first_step + start)
            state = self.train(state, x_train, y_train, rows, np.int32(count), seed, step, rates)
        return state

    def evaluate(self, packed, x, y) -> dict[str, float]:
        """Mean loss and accuracy over ``(x, y)``; ``packed`` is ``(flat params, extra)``."""
        eval_batch, size = self.eval_batch
        x = np.asarray(x, np.float32)
        y = np.asarray(y, np.int32)
        n = x.shape[0]
        total_loss = total_correct = 0.0
        # Every batch is padded to the compiled size and masked, so one program fits any set.
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


class _EvalProgram:
    """The traced evaluation of one padded batch; each trace counts under ``key``."""

    # The method names are the programs' names (jit_eval_batch, jit_one_step, jit_steps).

    def __init__(self, model, layout: ParamLayout, trace_counts: collections.Counter, key):
        self.model, self.layout = model, layout
        self.trace_counts, self.key = trace_counts, key

    def eval_batch(self, packed, x, y, mask):
        self.trace_counts[self.key] += 1
        flat, extra = packed
        logits = self.model.apply({"params": self.layout.unravel(flat), **extra}, x, train=False)
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        correct = (jnp.argmax(logits, -1) == y).astype(jnp.float32)
        return jnp.sum(losses * mask), jnp.sum(correct * mask)


def make_eval(model, layout: ParamLayout, trace_counts: collections.Counter, signature):
    """The jitted ``(packed, x, y, mask) -> (loss sum, correct count)`` over the examples
    ``mask`` marks; each trace adds one to ``trace_counts[(signature, "eval")]``."""
    return jax.jit(_EvalProgram(model, layout, trace_counts, (signature, "eval")).eval_batch)


class _TrainProgram:
    """The traced training step (or loop of steps) of one candidate; each trace counts under
    ``key``."""

    def __init__(self, model, optimizer, layout: ParamLayout, trace_counts, key):
        self.model, self.optimizer, self.layout = model, optimizer, layout
        self.trace_counts, self.key = trace_counts, key

    def loss_fn(self, flat, extra, x, y, rates, step_seed):
        logits, updates = self.model.apply(
            {"params": self.layout.unravel(flat), **extra},
            x,
            train=True,
            dropout_rates=rates,
            dropout_seed=step_seed,
            mutable=["batch_stats"],
        )
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, updates

    def step(self, state, x_all, y_all, idx, seed, counter, rates):
        """One optimizer step on the rows ``idx`` of the training set."""
        (flat, extra), opt_state, loss_sum = state
        step_seed = _mix_seed(seed, counter)
        (loss, updates), grads = jax.value_and_grad(self.loss_fn, has_aux=True)(
            flat, extra, x_all[idx], y_all[idx], rates, step_seed
        )
        # One flat vector: the optimizer update compiles to a few kernels, not per-leaf ones.
        upd, opt_state = self.optimizer.update(grads, opt_state, flat)
        extra = {**extra, **updates}
        return (optax.apply_updates(flat, upd), extra), opt_state, loss_sum + loss

    def one_step(self, state, x_all, y_all, idx, seed, counter, rates):
        """The per-step program."""
        self.trace_counts[self.key] += 1
        return self.step(state, x_all, y_all, idx, seed, counter, rates)

    def steps(self, state, x_all, y_all, order, count, seed, first_step, rates):
        """The first ``count`` rows of ``order`` (k x batch indices), one step each."""
        self.trace_counts[self.key] += 1

        def body(i, st):
            return self.step(st, x_all, y_all, order[i], seed, first_step + i, rates)

        return jax.lax.fori_loop(0, count, body, state)


@dataclass(frozen=True, eq=False)
class ProgramCompiler:
    """Compiles candidates' programs ahead of time for one trainer's settings.

    ``epochs`` sizes the run and so XLA's effort (:mod:`nas.training.xla_options`);
    ``eval_batch_size`` is the evaluation program's fixed batch; every trace of a program adds
    one to ``trace_counts[(signature, "train" | "eval")]``.
    """

    epochs: int
    eval_batch_size: int
    trace_counts: collections.Counter

    def training(self, arch: Architecture, x_train, y_train, num_classes: int) -> Programs:
        """Training and evaluation programs for ``arch`` on data shaped like ``x_train``."""
        model = build_model(arch, num_classes)
        optimizer = make_optimizer(arch.optimizer)
        input_shape = tuple(x_train.shape[1:])
        batch = arch.batch_size
        start = time.perf_counter()
        variables_shape = candidate_variable_shapes(arch, input_shape, num_classes)
        layout = ParamLayout.of(variables_shape["params"])
        flat_shape = jax.ShapeDtypeStruct((layout.size,), jnp.float32)
        opt_shape = jax.eval_shape(optimizer.init, flat_shape)
        program = _TrainProgram(
            model, optimizer, layout, self.trace_counts, (arch.signature(), "train")
        )
        steps = int(x_train.shape[0]) // batch
        flops = forward_flops(arch, input_shape, num_classes)
        run_flops = training_flops(flops, steps * batch, self.epochs)
        backend = jax.default_backend()
        k = steps_per_call(arch, backend, steps)
        state = (
            (flat_shape, _extra(variables_shape)),
            opt_shape,
            jax.ShapeDtypeStruct((), jnp.float32),
        )
        scalar = jax.ShapeDtypeStruct((), jnp.int32)
        seed = jax.ShapeDtypeStruct((), jnp.uint32)
        rates = jax.ShapeDtypeStruct((len(arch.layers),), jnp.float32)
        if k == 1:
            indices = jax.ShapeDtypeStruct((batch,), jnp.int32)
            train_lowered = jax.jit(program.one_step, donate_argnums=(0,)).lower(
                state, x_train, y_train, indices, seed, scalar, rates
            )
        else:
            order = jax.ShapeDtypeStruct((k, batch), jnp.int32)
            train_lowered = jax.jit(program.steps, donate_argnums=(0,)).lower(
                state, x_train, y_train, order, scalar, seed, scalar, rates
            )
        # Compiled ahead of time (so compile seconds are measured apart from training). XLA
        # compiles without the GIL: the training program, the longest compile, starts while
        # Python still lowers the evaluation program.
        with ThreadPoolExecutor(max_workers=1) as pool:
            train_future = pool.submit(
                train_lowered.compile, compiler_options=compiler_options(backend, run_flops)
            )
            eval_batch = self._eval_batch(
                arch,
                model,
                input_shape,
                variables_shape,
                layout,
                compiler_options(backend, run_flops, program="eval"),
            )
            train_c = train_future.result()
        return Programs(
            model=model,
            variable_shapes=variables_shape,
            layout=layout,
            opt_shape=opt_shape,
            train=train_c,
            eval_batch=eval_batch,
            compile_seconds=time.perf_counter() - start,
            steps_per_call=k,
        )

    def evaluation(self, arch: Architecture, input_shape: tuple, num_classes: int) -> Programs:
        """Evaluation alone (trained weights on a test set): compiled like a short run's."""
        model = build_model(arch, num_classes)
        shapes = candidate_variable_shapes(arch, tuple(input_shape), num_classes)
        layout = ParamLayout.of(shapes["params"])
        options = compiler_options(jax.default_backend(), 0.0, program="eval")
        return Programs(
            model=model,
            variable_shapes=shapes,
            layout=layout,
            opt_shape=None,
            train=None,
            eval_batch=self._eval_batch(arch, model, tuple(input_shape), shapes, layout, options),
        )

    def _eval_batch(
        self,
        arch: Architecture,
        model,
        input_shape: tuple,
        shapes: dict,
        layout: ParamLayout,
        options: dict,
    ) -> tuple[Any, int]:
        """The evaluation program compiled ahead of time, and its batch size."""
        eval_j = make_eval(model, layout, self.trace_counts, arch.signature())
        size = self.eval_batch_size
        flat_shape = jax.ShapeDtypeStruct((layout.size,), jnp.float32)
        compiled = eval_j.lower(
            (flat_shape, _extra(shapes)),
            jax.ShapeDtypeStruct((size, *input_shape), jnp.float32),
            jax.ShapeDtypeStruct((size,), jnp.int32),
            jax.ShapeDtypeStruct((size,), jnp.float32),
        ).compile(compiler_options=options)
        return compiled, size


class ProgramCache:
    """At most one compilation per signature and data shape; safe to use from several threads.

    Training programs compile on a two-thread pool, created on first use: XLA compiles without
    holding the GIL, so a compilation scheduled ahead overlaps the training of another trial.
    """

    def __init__(self, compiler: ProgramCompiler):
        self.compiler = compiler
        self._training: dict[tuple, Future[Programs]] = {}
        self._evaluation: dict[tuple, Programs] = {}
        # Keys some trial has trained: only the first reports the compilation as its cost.
        self._claimed: set[tuple] = set()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def schedule(
        self, arch: Architecture, x_train, y_train, num_classes: int, *, claim: bool = True
    ) -> tuple[Future[Programs], bool]:
        """The (possibly running) compilation for this signature and data shape, and whether
        this call is the first to claim it; ``claim=False`` only starts it (ahead of time)."""
        key = (arch.signature(), tuple(x_train.shape), num_classes)
        with self._lock:
            future = self._training.get(key)
            if future is None:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="compile")
                future = self._pool.submit(
                    self.compiler.training, arch, x_train, y_train, num_classes
                )
                self._training[key] = future
            fresh = claim and key not in self._claimed
            if claim:
                self._claimed.add(key)
        return future, fresh

    def evaluation(self, arch: Architecture, input_shape: tuple, num_classes: int) -> Programs:
        """Evaluation-only programs for this signature and input shape, compiled here once."""
        key = (arch.signature(), tuple(input_shape), num_classes)
        if key not in self._evaluation:
            self._evaluation[key] = self.compiler.evaluation(arch, input_shape, num_classes)
        return self._evaluation[key]
