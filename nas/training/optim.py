"""Optimizers whose learning rate and weight decay are traced inputs, not constants.

``make_optimizer(name)`` returns an optax transformation built with
``optax.inject_hyperparams``, so the two hyperparameters live in the optimizer state as arrays
and candidates that differ only in them share one compiled training program.
"""

from __future__ import annotations

import jax.numpy as jnp
import optax

from nas.model import OPTIMIZERS


def _adamw(learning_rate: float, weight_decay: float) -> optax.GradientTransformation:
    return optax.adamw(learning_rate, weight_decay=weight_decay)


def _adam(learning_rate: float, weight_decay: float) -> optax.GradientTransformation:
    # Classic (coupled) L2 decay, the difference from adamw.
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.adam(learning_rate))


def _sgd(learning_rate: float, weight_decay: float) -> optax.GradientTransformation:
    return optax.chain(
        optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum=0.9)
    )


_FACTORIES = {"adamw": _adamw, "adam": _adam, "sgd": _sgd}
assert set(_FACTORIES) == set(OPTIMIZERS)


def make_optimizer(name: str) -> optax.GradientTransformation:
    """An optimizer whose ``init(params)`` state carries ``learning_rate`` and ``weight_decay``.

    Set them with :func:`with_hyperparams` after ``init``; raises ``ValueError`` on an unknown name.
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown optimizer {name!r}; expected one of {sorted(_FACTORIES)}")
    return optax.inject_hyperparams(_FACTORIES[name])(learning_rate=0.0, weight_decay=0.0)


def with_hyperparams(opt_state, learning_rate, weight_decay):
    """A copy of an injected-hyperparams state with new (possibly traced) values."""
    hyper = dict(opt_state.hyperparams)
    hyper["learning_rate"] = jnp.asarray(learning_rate, jnp.float32)
    hyper["weight_decay"] = jnp.asarray(weight_decay, jnp.float32)
    return opt_state._replace(hyperparams=hyper)
