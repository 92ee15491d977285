"""How a search space asks for values: the :class:`Suggest` protocol and two plain implementations.

A space names every value it draws and always asks for a given name with the same
distribution, so an Optuna adapter can map each call to ``trial.suggest_*`` one to one.
Choices are ``None``, ``bool``, ``int``, ``float`` or ``str``, as Optuna requires.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class Suggest(Protocol):
    """Source of the values a space draws; ``name`` identifies the parameter."""

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        """One of ``choices``."""
        ...

    def int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        """An int ``low + k * step`` in ``[low, high]``; log-uniform where ``log``."""
        ...

    def float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float in ``[low, high]``, on the grid ``low + k * step`` when ``step`` is given;
        log-uniform where ``log``."""
        ...


class RandomSuggest:
    """Draws uniformly (log-uniformly where ``log``) from ``random.Random(seed)``.

    ``params`` maps each name drawn so far to its latest value, ready for :class:`FixedSuggest`.
    Asking for one name with two different distributions raises ``ValueError``, as Optuna does.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._distributions: dict[str, tuple[Any, ...]] = {}
        self.params: dict[str, Any] = {}

    def _check(self, name: str, distribution: tuple[Any, ...]) -> None:
        known = self._distributions.setdefault(name, distribution)
        if known != distribution:
            raise ValueError(f"parameter {name!r} asked as {distribution} after {known}")

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        self._check(name, ("categorical", tuple(choices)))
        value = self._rng.choice(list(choices))
        self.params[name] = value
        return value

    def int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        self._check(name, ("int", low, high, step, log))
        if log:
            # Widen by half a unit so that rounding gives the end points their fair share.
            x = math.exp(self._rng.uniform(math.log(low - 0.5), math.log(high + 0.5)))
            value = min(max(round(x), low), high)
        else:
            value = low + step * self._rng.randint(0, (high - low) // step)
        self.params[name] = value
        return value

    def float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        self._check(name, ("float", low, high, step, log))
        if log:
            value = math.exp(self._rng.uniform(math.log(low), math.log(high)))
        elif step is not None:
            value = low + step * self._rng.randint(0, math.floor((high - low) / step + 1e-9))
        else:
            value = self._rng.uniform(low, high)
        # exp/log and step arithmetic can land a rounding error outside the bounds.
        value = min(max(value, low), high)
        self.params[name] = value
        return value


class FixedSuggest:
    """Replays recorded values (name -> value), e.g. a :class:`RandomSuggest`'s ``params`` or
    an Optuna trial's.

    A name missing from ``params`` raises ``KeyError`` naming it; a recorded value outside the
    distribution asked for raises ``ValueError`` (the space changed since it was recorded).
    """

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def _get(self, name: str) -> Any:
        try:
            return self.params[name]
        except KeyError:
            raise KeyError(f"no recorded value for parameter {name!r}") from None

    def categorical(self, name: str, choices: Sequence[Any]) -> Any:
        value = self._get(name)
        if value not in list(choices):
            raise ValueError(f"recorded {name}={value!r} is not one of {list(choices)}")
        return value

    def int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        value = self._get(name)
        # Tables (pandas, JSON via floats) may hand back 64.0 for 64.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not low <= value <= high
            or (value - low) % step
        ):
            raise ValueError(f"recorded {name}={value!r} is not an int in [{low}, {high}]")
        return value

    def float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        value = self._get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ValueError(f"recorded {name}={value!r} is not a float in [{low}, {high}]")
        return float(value)
