"""Parameter values in a space file: a literal, a set of choices, or an int or float range.

``parse_param`` reads the syntax and applies the checks that hold for every field (non-empty,
unique choices; ``low <= high``; ``log`` needs ``low > 0``; ``step > 0``; no ``step`` with
``log``; ``high - low`` a multiple of ``step``, which Optuna would otherwise adjust with a
warning). Which values a particular field accepts is :mod:`nas.space.fields`' business.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from nas.checks import did_you_mean, is_finite_number, is_number, key_text, short, shown
from nas.errors import SpecError
from nas.space.suggest import Suggest

RANGE_KEYS = ("low", "high", "step", "log")
SYNTAX = "a parameter is a literal, {choices: [...]} or {low, high, step?, log?}"


def found(value: Any) -> str:
    """How a space-file message shows a value it did not expect, with its type
    (:func:`nas.checks.shown`, typed)."""
    return shown(value)


def is_scalar(value: Any) -> bool:
    """Whether Optuna can hold ``value`` as a categorical choice."""
    return value is None or isinstance(value, bool | int | float | str)


@dataclass(frozen=True)
class Fixed:
    """A literal: always this value, never suggested."""

    value: Any

    @property
    def continuous(self) -> bool:
        return False

    def draw(self, suggest: Suggest, name: str) -> Any:
        return self.value

    def values(self) -> tuple[Any, ...]:
        return (self.value,)

    def count(self) -> int:
        return 1

    def to_data(self) -> Any:
        return self.value

    def describe(self) -> str:
        return f"fixed {self.value!r}"


@dataclass(frozen=True)
class Choice:
    """``{choices: [...]}``: a categorical parameter."""

    choices: tuple[Any, ...]

    @property
    def continuous(self) -> bool:
        return False

    def draw(self, suggest: Suggest, name: str) -> Any:
        return suggest.categorical(name, self.choices)

    def values(self) -> tuple[Any, ...]:
        return self.choices

    def count(self) -> int:
        return len(self.choices)

    def to_data(self) -> Any:
        return {"choices": list(self.choices)}

    def describe(self) -> str:
        return f"choices {list(self.choices)}"


@dataclass(frozen=True)
class IntRange:
    """``{low, high, step?, log?}`` with int bounds: ints ``low + k * step`` up to ``high``."""

    low: int
    high: int
    step: int = 1
    log: bool = False

    @property
    def continuous(self) -> bool:
        return False

    def draw(self, suggest: Suggest, name: str) -> int:
        return suggest.int(name, self.low, self.high, step=self.step, log=self.log)

    def values(self) -> tuple[int, ...]:
        return tuple(range(self.low, self.high + 1, self.step))

    def count(self) -> int:
        return (self.high - self.low) // self.step + 1

    def to_data(self) -> Any:
        data: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step != 1:
            data["step"] = self.step
        if self.log:
            data["log"] = True
        return data

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int [{self.low}, {self.high}]{step}{' log' if self.log else ''}"


@dataclass(frozen=True)
class FloatRange:
    """``{low, high, step?, log?}`` with a float bound: continuous unless ``step`` is given."""

    low: float
    high: float
    step: float | None = None
    log: bool = False

    @property
    def continuous(self) -> bool:
        return self.step is None and self.low < self.high

    def draw(self, suggest: Suggest, name: str) -> float:
        return suggest.float(name, self.low, self.high, step=self.step, log=self.log)

    def values(self) -> tuple[float, ...] | None:
        """The grid when ``step`` is given (or ``low == high``); ``None`` when continuous."""
        if self.continuous:
            return None
        step = self.step or 1.0
        return tuple(min(self.low + k * step, self.high) for k in range(self.count()))

    def count(self) -> int:
        if self.low == self.high:
            return 1
        if self.step is None:
            raise ValueError("a continuous range has no count")
        return round((self.high - self.low) / self.step) + 1

    def to_data(self) -> Any:
        data: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.step is not None:
            data["step"] = self.step
        if self.log:
            data["log"] = True
        return data

    def describe(self) -> str:
        step = f" step {self.step:g}" if self.step is not None else ""
        return f"float [{self.low:g}, {self.high:g}]{step}{' log' if self.log else ''}"


@dataclass(frozen=True)
class PerEdge:
    """A cell's ``ops``: one parameter per edge of the cell (a literal op or
    ``{choices: [...]}``), drawn edge by edge, edge ``e`` under the name ``{name}.{e}``; the
    value is the tuple of the edges' ops."""

    edges: tuple[Fixed | Choice, ...]

    @property
    def continuous(self) -> bool:
        return False

    def draw(self, suggest: Suggest, name: str) -> tuple[Any, ...]:
        return tuple(p.draw(suggest, f"{name}.{e}") for e, p in enumerate(self.edges))

    def values(self) -> tuple[Any, ...]:
        return tuple(itertools.product(*(p.values() for p in self.edges)))

    def count(self) -> int:
        return math.prod(p.count() for p in self.edges)

    def flat(self, name: str) -> list[tuple[str, Fixed | Choice]]:
        """Each edge's parameter under its own name."""
        return [(f"{name}.{e}", p) for e, p in enumerate(self.edges)]

    def to_data(self) -> Any:
        return [p.to_data() for p in self.edges]

    def describe(self) -> str:
        return f"{len(self.edges)} edges: " + ", ".join(p.describe() for p in self.edges)


Param = Fixed | Choice | IntRange | FloatRange | PerEdge


def flat_params(name: str, param: Param) -> list[tuple[str, Param]]:
    """``param`` under ``name``, a :class:`PerEdge` as one parameter per edge."""
    return param.flat(name) if isinstance(param, PerEdge) else [(name, param)]


def parse_param(raw: Any, source: str, path: str, *, as_float: bool = False) -> Param:
    """Read one parameter value; ``as_float`` reads a range with int bounds as a float range
    (for float fields). Raises :class:`SpecError` at ``path`` or below it."""
    if isinstance(raw, dict):
        if "choices" in raw:
            extra = [key for key in raw if key != "choices"]
            if extra:
                raise SpecError(
                    source,
                    f"{path}.{key_text(extra[0])}",
                    f"unknown key {short(extra[0])} next to choices",
                )
            return _parse_choices(raw["choices"], source, f"{path}.choices")
        unknown = [key for key in raw if key not in RANGE_KEYS]
        if unknown:
            raise SpecError(
                source,
                f"{path}.{key_text(unknown[0])}",
                f"unknown key {short(unknown[0])}; {SYNTAX}"
                + did_you_mean(unknown[0], (*RANGE_KEYS, "choices")),
            )
        missing = [key for key in ("low", "high") if key not in raw]
        if missing:
            raise SpecError(source, f"{path}.{missing[0]}", f"a range needs low and high; {SYNTAX}")
        return _parse_range(raw, source, path, as_float)
    if isinstance(raw, list):
        raise SpecError(
            source, path, f"found {found(raw)}; write a set of choices as {{choices: [...]}}"
        )
    if not is_scalar(raw):
        raise SpecError(source, path, f"found {found(raw)}; {SYNTAX}")
    return Fixed(raw)


def _parse_choices(raw: Any, source: str, path: str) -> Choice:
    if not isinstance(raw, list):
        raise SpecError(source, path, f"expected a list of choices, found {found(raw)}")
    if not raw:
        raise SpecError(source, path, "choices is empty; give at least one value")
    # Scalars are hashable and hash consistently with ==, so a set finds duplicates in linear
    # time; 1, 1.0 and True count as one value, as they do for Optuna.
    seen: set[Any] = set()
    for i, value in enumerate(raw):
        if not is_scalar(value):
            raise SpecError(
                source,
                f"{path}[{i}]",
                f"a choice must be null, a bool, a number or a string, found {found(value)}",
            )
        if value in seen:
            raise SpecError(source, f"{path}[{i}]", f"duplicate choice {short(value)}")
        seen.add(value)
    return Choice(tuple(raw))


def _number(raw: dict[str, Any], key: str, source: str, path: str) -> int | float:
    value = raw[key]
    if not is_number(value):
        raise SpecError(source, f"{path}.{key}", f"expected a number, found {found(value)}")
    if not is_finite_number(value):
        raise SpecError(source, f"{path}.{key}", f"expected a finite number, found {short(value)}")
    return value


def _parse_range(raw: dict[str, Any], source: str, path: str, as_float: bool) -> Param:
    low = _number(raw, "low", source, path)
    high = _number(raw, "high", source, path)
    step = _number(raw, "step", source, path) if raw.get("step") is not None else None
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SpecError(source, f"{path}.log", f"expected true or false, found {found(log)}")
    if low > high:
        raise SpecError(
            source, path, f"low is greater than high: low={short(low)}, high={short(high)}"
        )
    if log and low <= 0:
        raise SpecError(source, f"{path}.low", f"log scale needs low > 0, found low={short(low)}")
    if step is not None:
        if step <= 0:
            raise SpecError(source, f"{path}.step", f"step must be > 0, found step={short(step)}")
        if log:
            raise SpecError(source, f"{path}.step", "step cannot be combined with log: true")
        if (Decimal(str(high)) - Decimal(str(low))) % Decimal(str(step)) != 0:
            raise SpecError(
                source,
                f"{path}.step",
                f"high - low must be a multiple of step: low={short(low)}, high={short(high)}, "
                f"step={short(step)}",
            )
    is_int = all(isinstance(v, int) for v in (low, high, step) if v is not None)
    if is_int and not as_float:
        return IntRange(int(low), int(high), int(step) if step is not None else 1, log)
    return FloatRange(float(low), float(high), float(step) if step is not None else None, log)
