"""Field checks of the experiment file, in its phrasing (``must be an integer >= 1, got 0``),
built on the kit the space file shares (:mod:`nas.checks`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.checks import Bounds, is_choice, is_finite_number, is_int, key_text, short, shown
from nas.errors import SpecError
from nas.urls import DEFAULT_STORAGE, JOURNAL_SUFFIXES, is_store_url, public_url


def brief(value: Any) -> str:
    """How an experiment-file message shows a value it did not expect (``got ...``)."""
    return shown(value, typed=False)


@dataclass(frozen=True)
class Check:
    """Field checks that raise :class:`SpecError` against one source (a file, ``command
    line`` or ``environment``); each returns the value it passed.

    With ``optional=True`` a ``None`` value passes through as ``None``.
    """

    source: str | Path

    def fail(self, field: str, problem: str) -> SpecError:
        return SpecError(self.source, field, problem)

    def keys(self, value: Any, field: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field, f"must be a mapping, got {brief(value)}")
        for key in value:
            if key not in allowed:
                where = f"{field}.{key_text(key)}" if field else key_text(key)
                raise self.fail(where, f"unknown key; allowed: {', '.join(allowed)}")
        return value

    def required(self, data: Mapping[str, Any], key: str, what: str, prefix: str = "") -> Any:
        if data.get(key) is None:
            raise self.fail(f"{prefix}{key}", f"required: {what}")
        return data[key]

    def integer(
        self, value: Any, field: str, low: int, high: int | None = None, *, optional: bool = False
    ) -> Any:
        """An integer in ``[low, high]`` (no upper limit where ``high`` is ``None``)."""
        if value is None and optional:
            return None
        bounds = Bounds(low, high)
        if not (is_int(value) and bounds(value)):
            raise self.fail(field, f"must be an integer {bounds}, got {brief(value)}")
        return value

    def number(
        self,
        value: Any,
        field: str,
        low: float,
        *,
        high: float | None = None,
        open_: bool = False,
        optional: bool = False,
    ) -> Any:
        """A finite number above ``low`` (strictly if ``open_``) and below ``high``; as a float."""
        if value is None and optional:
            return None
        bounds = Bounds(low, high, low_open=open_, high_open=True)
        if not (is_finite_number(value) and bounds(value)):
            raise self.fail(field, f"must be a number {bounds}, got {brief(value)}")
        return float(value)

    def choice(
        self, value: Any, field: str, choices: tuple[str, ...], *, optional: bool = False
    ) -> Any:
        if value is None and optional:
            return None
        if not is_choice(value, choices):
            raise self.fail(
                field, f"unknown value {brief(value)}; expected one of {', '.join(choices)}"
            )
        return value

    def text(self, value: Any, field: str, *, optional: bool = False) -> Any:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"must be non-empty text, got {brief(value)}")
        return value

    def address(self, value: Any, field: str, *, optional: bool = False) -> Any:
        """A Ray cluster address: ``host:port`` or ``auto``. The Ray Client form
        (``ray://``) needs a package the toolkit does not install, and is refused here rather
        than failing inside Ray."""
        text = self.text(value, field, optional=optional)
        if text is not None and text.strip().lower().startswith("ray://"):
            raise self.fail(
                field,
                f"{short(text)} is a Ray Client address, which is not supported; run the search on "
                "a machine of the cluster and give the head's host:port (e.g. HEAD_IP:6379)",
            )
        return text

    def storage(self, value: Any, field: str) -> str:
        """A database URL or a journal file path (see :mod:`nas.urls`)."""
        url = self.text(value, field)
        if not is_store_url(url):
            raise self.fail(
                field,
                f"{short(public_url(url))} is neither a database URL (such as {DEFAULT_STORAGE}) "
                f"nor a journal file ending in {' or '.join(JOURNAL_SUFFIXES)}",
            )
        return url
