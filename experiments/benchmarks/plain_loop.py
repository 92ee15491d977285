"""The baseline: a search written by hand with Optuna and Flax, as a user would without us.

Per trial it builds the model, initialises it eagerly (``model.init`` un-jitted), defines and
``jax.jit``s a train step, loops over shuffled mini-batches in Python, and evaluates eagerly
(``model.apply`` on the validation set). To compare like with like it draws candidates from
the same space file through the same sampler and seed, and builds the same Flax networks
(``nas.model.builder``); only the training machinery is the hand-written kind.

    python experiments/benchmarks/plain_loop.py --trials 20 --epochs 20 --out plain.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optuna

from nas.data import load_dataset
from nas.model import build_model
from nas.search import OptunaSuggest
from nas.space import load_space

ROOT = Path(__file__).resolve().parents[2]


def train_one(arch, data, epochs: int, seed: int) -> dict[str, float]:
    """Train one candidate the plain way; returns timings and validation accuracy."""
    t0 = time.perf_counter()
    model = build_model(arch, data.num_classes)
    key = jax.random.key(seed)
    variables = model.init(key, jnp.asarray(data.x_train[:1]), train=False)
    params = variables["params"]
    batch_stats = variables.get("batch_stats", {})
    tx = optax.adamw(arch.learning_rate, weight_decay=arch.weight_decay)
    opt_state = tx.init(params)
    rates = jnp.asarray(arch.dropout_rates(), jnp.float32)
    init_s = time.perf_counter() - t0

    @jax.jit
    def train_step(params, batch_stats, opt_state, x, y, key):
        def loss_fn(p):
            logits, updates = model.apply(
                {"params": p, "batch_stats": batch_stats},
                x,
                train=True,
                dropout_rates=rates,
                rngs={"dropout": key},
                mutable=["batch_stats"],
            )
            loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
            return loss, updates

        (loss, updates), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
        upd, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, upd), updates.get("batch_stats", {}), opt_state, loss

    rng = np.random.default_rng(seed)
    n = len(data.x_train)
    steps = n // arch.batch_size
    first_step_s = train_s = eval_s = 0.0
    acc = 0.0
    for _ in range(epochs):
        order = rng.permutation(n)
        t = time.perf_counter()
        for i in range(steps):
            idx = order[i * arch.batch_size : (i + 1) * arch.batch_size]
            key, sub = jax.random.split(key)
            s = time.perf_counter()
            params, batch_stats, opt_state, loss = train_step(
                params, batch_stats, opt_state, data.x_train[idx], data.y_train[idx], sub
            )
            if first_step_s == 0.0:
                loss.block_until_ready()
                first_step_s = time.perf_counter() - s  # compilation and one step
        float(loss)
        train_s += time.perf_counter() - t
        t = time.perf_counter()
        logits = model.apply(
            {"params": params, "batch_stats": batch_stats}, data.x_val, train=False
        )
        acc = float(jnp.mean(jnp.argmax(logits, -1) == data.y_val))
        eval_s += time.perf_counter() - t
    return {
        "init_seconds": init_s,
        "compile_seconds": first_step_s,
        "train_seconds": train_s - first_step_s,
        "eval_seconds": eval_s,
        "val_accuracy": acc,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", default=str(ROOT / "search_spaces/mlp.yaml"))
    parser.add_argument("--dataset", default="digits", help="a built-in dataset's name")
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = load_space(args.space)
    data = load_dataset(
        args.dataset, kind=space.input_kind, val_fraction=args.val_fraction, seed=args.seed
    )
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=args.seed)
    )
    rows = []

    def objective(trial: optuna.Trial) -> float:
        arch = space.sample(OptunaSuggest(trial))
        start = time.perf_counter()
        row = train_one(arch, data, args.epochs, seed=trial.number)
        row["wall_seconds"] = time.perf_counter() - start
        rows.append(row)
        return row["val_accuracy"]

    start = time.perf_counter()
    study.optimize(objective, n_trials=args.trials)
    args.out.write_text(
        json.dumps(
            {
                "total_seconds": time.perf_counter() - start,
                "best_val_accuracy": study.best_value,
                "trials": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
