"""Safe YAML loading for the declarative files (search spaces, experiments).

Only plain data is built (a ``yaml.SafeLoader`` subclass): no tag can run code. Two changes
to plain YAML 1.1 make hand-written files less surprising: numbers in scientific notation
without a dot or a signed exponent (``1e-4``, ``1.0e3``) are floats rather than strings, and
a mapping that repeats a key is an error rather than silently keeping the last value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from nas.errors import SpecError

# YAML 1.1 reads a float only with a dot and a signed exponent; this adds the forms that
# Python, JSON and YAML 1.2 read as floats.
_SCIENTIFIC = re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with scientific floats and errors on duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            # Keys brought in by a merge (<<) may be overridden on purpose; only explicit
            # scalar keys are compared.
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789."))


def load_yaml_text(text: str, source: str | Path = "<text>") -> Any:
    """Parse ``text``; a syntax error raises ``SpecError(source, "", ...)`` naming the line
    and column."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise SpecError(source, "", _describe(err)) from None
    except yaml.YAMLError as err:
        raise SpecError(source, "", f"invalid YAML: {err}") from None


def load_yaml(path: str | Path) -> Any:
    """Parse the file at ``path``; a missing or unreadable file or a syntax error raises
    ``SpecError(path, "", ...)``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(path, "", "file not found") from None
    except IsADirectoryError:
        raise SpecError(path, "", "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(path, "", f"cannot read the file: {err}") from None
    return load_yaml_text(text, path)


def _describe(err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown position"
    problem = err.problem or err.context or "invalid YAML"
    if err.problem and err.context:
        problem = f"{problem} ({err.context})"
    return f"YAML syntax error at {where}: {problem}"
