"""The field-check kit both declarative files use: the experiment file (:mod:`nas.config`) and
the space file (:mod:`nas.space`).

It holds what a check decides and how a message shows it: the type predicates, numeric
:class:`Bounds` that test a value and say themselves in words, and :func:`shown`, how a
message shows a value it did not expect. The sentences themselves stay with each file's
checks (``must be an integer >= 1, got 0`` in one, ``expected a positive int, found 0`` in the
other). A ground module: it imports nothing of ``nas``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def is_int(value: Any) -> bool:
    """An int; ``True``/``False`` are not, although Python counts them as ints."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or a float, bools excluded (infinities and NaN included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A number that is neither infinite nor NaN."""
    return is_number(value) and math.isfinite(value)


def is_choice(value: Any, choices: tuple[str, ...]) -> bool:
    """One of the allowed strings."""
    return isinstance(value, str) and value in choices


@dataclass(frozen=True)
class Bounds:
    """A numeric interval from ``low`` up to ``high`` (``None``: unbounded above), each end
    excluded where ``*_open``. Calling it tests a number; ``str()`` is the interval in words:
    ``>= 1``, ``> 0``, ``in [0, 8]``, ``in (0, 1)``, ``in [0, 1)``."""

    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __call__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        if self.high is None:
            return above
        return above and (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        if self.high is None:
            return f"{'>' if self.low_open else '>='} {self.low}"
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"in {left}{self.low}, {self.high}{right}"


def shown(value: Any, *, typed: bool = True) -> str:
    """How a message shows a value it did not expect.

    ``typed`` (space files) names a scalar's type and a container's contents: ``null``,
    ``a mapping with keys ['a']``, ``a list [1]``, ``int 0``. Otherwise (experiment files) it
    says only what kind of container it is: ``nothing (null)``, ``a mapping``, ``a list``,
    ``0``.
    """
    # Each style counts as a mapping what its files' checks accept as one: space checks take
    # only dicts, experiment checks any Mapping.
    if value is None:
        return "null" if typed else "nothing (null)"
    if isinstance(value, dict if typed else Mapping):
        return f"a mapping with keys {list(value)}" if typed else "a mapping"
    if isinstance(value, list):
        return f"a list {value!r}" if typed else "a list"
    return f"{type(value).__name__} {value!r}" if typed else repr(value)
