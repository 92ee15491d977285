"""The field-check kit both declarative files use: the experiment file (:mod:`nas.config`) and
the space file (:mod:`nas.space`).

It holds what a check decides and how a message shows it: the type predicates, numeric
:class:`Bounds` that test a value and say themselves in words, and :func:`shown`, how a
message shows a value it did not expect (:func:`short`: never longer than :data:`MAX_SHOWN`
characters, however large the value). The sentences themselves stay with each file's
checks (``must be an integer >= 1, got 0`` in one, ``expected a positive int, found 0`` in the
other). A ground module: it imports nothing of ``nas``.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Longest text a message shows of one value the user wrote; enough to recognise it.
MAX_SHOWN = 120
# The longest key shown as it is in a field path such as ``layers[0].KEY``.
MAX_KEY = 40


class _Short(reprlib.Repr):
    """``repr`` with every container, string and number cut short (reprlib), without ever
    building the full text of a huge or deeply nested value."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 8
        self.maxstring = 60
        self.maxlong = 40
        self.maxother = 60

    def repr_int(self, x: int, level: int) -> str:
        try:
            return super().repr_int(x, level)
        except ValueError:
            # Past Python's int-to-text limit (4300 digits): say its size instead.
            return f"<an int of about {int(x.bit_length() * math.log10(2))} digits>"


_SHORT = _Short()
_KEYS = _Short()
_KEYS.maxstring = _KEYS.maxother = MAX_KEY


def short(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` cut to at most ``limit`` characters, the cut marked by ``...``; text
    is escaped as ``repr`` escapes it, so control characters never reach a terminal raw."""
    text = _SHORT.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def key_text(key: Any) -> str:
    """A mapping key as a field path shows it: a short printable string as it is, anything
    else as a repr cut in the middle to about :data:`MAX_KEY` characters."""
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= MAX_KEY:
        return key
    return _KEYS.repr(key)


def is_int(value: Any) -> bool:
    """An int; ``True``/``False`` are not, although Python counts them as ints."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or a float, bools excluded (infinities and NaN included)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """A number that is neither infinite nor NaN, and that a float can hold: an int past
    float's range (``10**400``) is not, since every use of it as a float would fail."""
    if not is_number(value):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large to convert to float
        return False


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
    ``0``. Values are cut short (:func:`short`).
    """
    # Each style counts as a mapping what its files' checks accept as one: space checks take
    # only dicts, experiment checks any Mapping.
    if value is None:
        return "null" if typed else "nothing (null)"
    if isinstance(value, dict if typed else Mapping):
        return f"a mapping with keys {short(list(value))}" if typed else "a mapping"
    if isinstance(value, list):
        return f"a list {short(value)}" if typed else "a list"
    return f"{type(value).__name__} {short(value)}" if typed else short(value)
