"""Host-side initialisation: the same distributions as Flax's defaults, with no compilation.

Compiling a model's ``init`` costs XLA as much as a training step on a CPU (the random number
code is large), and that cost is paid once per architecture shape. Drawing the initial values
with numpy from the shapes ``jax.eval_shape`` reports costs nothing to compile. Rules, as in
``flax.linen``: kernels LeCun-normal (truncated at two standard deviations, fan-in = product
of all but the last axis); recurrent (hidden-to-hidden) kernels of RNN cells orthogonal; biases
zero; norm scales one; batch statistics mean zero, variance one.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

_RECURRENT = frozenset({"hr", "hz", "hn", "hi", "hf", "hg", "ho"})
# Flax divides by the std of a standard normal truncated to [-2, 2].
_TRUNCATED_STD = 0.87962566103423978


def _names(path: tuple) -> list[str]:
    return [str(getattr(entry, "key", entry)) for entry in path]


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return (out * std).astype(np.float32)


def _orthogonal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    rows, cols = int(np.prod(shape[:-1])), shape[-1]
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return q[:rows, :cols].reshape(shape).astype(np.float32)


def _leaf(rng: np.random.Generator, names: list[str], shape: tuple[int, ...]) -> np.ndarray:
    collection, leaf = names[0], names[-1]
    if collection == "batch_stats":
        return (np.ones if leaf == "var" else np.zeros)(shape, np.float32)
    if leaf == "bias":
        return np.zeros(shape, np.float32)
    if leaf == "scale":
        return np.ones(shape, np.float32)
    if leaf == "kernel":
        if len(names) >= 3 and names[-2] in _RECURRENT and names[-3] == "cell":
            return _orthogonal(rng, shape)
        fan_in = int(np.prod(shape[:-1]))
        return _truncated_normal(rng, shape, np.sqrt(1.0 / fan_in) / _TRUNCATED_STD)
    raise ValueError(f"no initialiser for parameter {'/'.join(names)} of shape {shape}")


def variable_shapes(model: Any, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Shapes (``jax.ShapeDtypeStruct``) of a model's variables, without allocating them."""
    return dict(
        jax.eval_shape(
            lambda: model.init(
                jax.random.key(0), np.zeros((1, *input_shape), np.float32), train=False
            )
        )
    )


def init_variables(shapes: dict[str, Any], seed: int) -> dict[str, Any]:
    """Initial variables (numpy float32) for the ``shapes`` :func:`variable_shapes` gives.

    Raises ``ValueError`` naming a parameter no rule covers.
    """
    rng = np.random.default_rng(seed)
    return jax.tree_util.tree_map_with_path(
        lambda path, s: _leaf(rng, _names(path), tuple(s.shape)), dict(shapes)
    )
