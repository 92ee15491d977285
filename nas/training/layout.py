"""Where each parameter lives in the one flat float32 vector the compiled programs work on.

The training program differentiates and updates a single vector, so the optimizer update
compiles to a few kernels rather than one per parameter leaf; :class:`ParamLayout` converts
between that vector and Flax's parameter tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np


@dataclass(frozen=True)
class ParamLayout:
    """Offsets and shapes of a parameter tree's leaves in flattening order."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    offsets: tuple[int, ...]
    size: int

    @classmethod
    def of(cls, tree: Any) -> ParamLayout:
        """The layout of ``tree`` (arrays or shape structs; only shapes are read)."""
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
        """The flat float32 numpy vector of a parameter tree with this layout."""
        leaves = jax.tree.leaves(tree)
        return np.concatenate([np.asarray(leaf, np.float32).ravel() for leaf in leaves])

    def variables(self, packed: Any) -> dict[str, Any]:
        """``{"params": tree, **extra}`` as numpy arrays from ``(flat, extra)``."""
        flat, extra = packed
        out = {"params": self.unravel(np.asarray(flat))}
        out.update(jax.tree.map(np.asarray, extra))
        return out
