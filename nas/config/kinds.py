"""Which kind of declarative file a YAML document is: a search space or an experiment.

Told by content, not by file name: each kind has its own top-level keys (a space ``name``,
``input`` and ``layers``; an experiment ``study``, ``space``, ``dataset``, ...), and the two
sets do not overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from nas.checks import short
from nas.config.fields import brief
from nas.config.schema import TOP_KEYS
from nas.errors import SpecError
from nas.space import SPACE_KEYS

FileKind = Literal["space", "experiment"]


def file_kind(data: Any, source: str | Path) -> FileKind:
    """``"space"`` or ``"experiment"``: the kind whose top-level keys ``data`` (the parsed
    file) holds more of; ``layers`` makes a space, ``space`` or ``study`` an experiment.

    Raises ``SpecError(source, "", ...)`` naming both kinds' keys when ``data`` is not a
    mapping or holds keys of neither kind.
    """
    both = (
        f"expected a search space (keys {', '.join(SPACE_KEYS)}) or an experiment "
        f"(keys {', '.join(TOP_KEYS[:6])}, ...)"
    )
    if not isinstance(data, Mapping):
        raise SpecError(source, "", f"{both}, found {brief(data)}")
    if "layers" in data:
        return "space"
    if "space" in data or "study" in data:
        return "experiment"
    spaces = sum(1 for key in data if key in SPACE_KEYS)
    experiments = sum(1 for key in data if key in TOP_KEYS)
    if spaces == experiments == 0:
        keys = short([key for key in data][:8])
        raise SpecError(source, "", f"neither kind of file: {both}; found keys {keys}")
    return "space" if spaces > experiments else "experiment"
