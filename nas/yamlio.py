"""Safe YAML loading for the declarative files (search spaces, experiments).

Only plain data is built (a ``yaml.SafeLoader`` subclass): no tag can run code. Two changes
to plain YAML 1.1 make hand-written files less surprising: numbers in scientific notation
without a dot or a signed exponent (``1e-4``, ``1.0e3``) are floats rather than strings, and
a mapping that repeats a key is an error rather than silently keeping the last value.

Hostile files are refused before anything is built from them: the document may expand to at
most :data:`MAX_NODES` nodes counting every alias as a full copy of what it names (a
"billion laughs" file is a few hundred bytes that expand to billions of values), may nest at
most :data:`MAX_DEPTH` levels (aliases included), and may not name an alias inside itself.
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

# A space or experiment file has tens to thousands of nodes; a list of 100k choices is still
# allowed. The limits bound what every later walk over the data (checks, messages, JSON) costs.
MAX_NODES = 1_000_000
# Deep enough for any real file; shallow enough that recursive code over the data (the
# composer itself, repr, json) stays far from Python's recursion limit.
MAX_DEPTH = 64
# About as much of a value or message as nas.checks shows (MAX_SHOWN there).
_SHOWN = 120
# Python refuses to read or print ints of more than 4300 decimal digits (a guard against slow
# conversions); hex, octal and binary ones are read without that limit, then fail wherever a
# message or JSON prints them, so they are refused at the same size.
MAX_INT_BITS = 14_284
# What PyYAML's constructors let through on odd values ("!!bool x", "2001-13-45", "!!map [1]").
_CONSTRUCT_ERRORS = (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError)


class _TooLarge(yaml.YAMLError):
    """The document exceeds a limit; ``problem`` says which, ``mark`` where."""

    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """SafeLoader with scientific floats, errors on duplicate keys, and the size and depth
    limits, counted while the composer resolves aliases (before any value is built)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # Expanded size and height of each finished node, by id: what an alias to it adds.
        self._expanded: dict[int, tuple[int, int]] = {}
        # [nodes, height] of each node being composed, outermost first.
        self._open: list[list[int]] = []
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            if id(node) not in self._expanded:
                # The alias names a node still being composed: the value would contain itself.
                raise _TooLarge(
                    f"has alias *{event.anchor} inside its own anchor", event.start_mark
                )
            nodes, height = self._expanded[id(node)]
            self._count(nodes, height, event.start_mark)
            if self._open:
                self._open[-1][0] += nodes
                self._open[-1][1] = max(self._open[-1][1], height)
            return node
        self._count(1, 1, self.peek_event().start_mark)
        self._open.append([0, 0])
        node = super().compose_node(parent, index)
        nodes, height = self._open.pop()
        self._expanded[id(node)] = (nodes + 1, height + 1)
        if self._open:
            self._open[-1][0] += nodes + 1
            self._open[-1][1] = max(self._open[-1][1], height + 1)
        return node

    def _count(self, nodes: int, height: int, mark: yaml.Mark) -> None:
        """Count ``nodes`` more values, ``height`` levels deep, placed inside the node being
        composed, and refuse the document where that passes a limit."""
        self._nodes += nodes
        if len(self._open) + height > MAX_DEPTH:
            raise _TooLarge(f"is nested deeper than {MAX_DEPTH} levels", mark)
        if self._nodes > MAX_NODES:
            raise _TooLarge(
                f"expands to more than {MAX_NODES:,} values (aliases counted in full)", mark
            )

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except _CONSTRUCT_ERRORS as err:
            # A KeyError's text is only the key (`!!bool x` looks x up among the bools).
            why = "not a value of its type" if isinstance(err, KeyError) else str(err)
            what = _quoted(node.value) if isinstance(node, yaml.ScalarNode) else node.tag
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {what}: {why}", node.start_mark
            ) from None

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value = super().construct_yaml_int(node)
        if abs(value).bit_length() > MAX_INT_BITS:
            raise yaml.constructor.ConstructorError(
                None, None, "an int of 4300 digits or more", node.start_mark
            )
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            # Keys brought in by a merge (<<) may be overridden on purpose; only explicit
            # scalar keys are compared.
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)
                if key in seen:
                    shown = _quoted(key) if isinstance(key, str) else repr(key)
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {shown}",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _SCIENTIFIC, list("-+0123456789."))


def load_yaml_text(text: str, source: str | Path = "<text>") -> Any:
    """Parse ``text``; a syntax error, a value YAML cannot build (``2001-13-45``) or a
    document past the limits raises ``SpecError(source, "", ...)`` naming the line and
    column."""
    try:
        return yaml.load(text, Loader=_Loader)
    except _TooLarge as err:
        where = f" at line {err.mark.line + 1}, column {err.mark.column + 1}" if err.mark else ""
        raise SpecError(source, "", f"refused: the document {err.problem}{where}") from None
    except yaml.MarkedYAMLError as err:
        raise SpecError(source, "", _describe(err)) from None
    except yaml.YAMLError as err:
        raise SpecError(source, "", _cut(f"invalid YAML: {err}")) from None
    except _CONSTRUCT_ERRORS as err:
        # Raised while a collection is filled in, outside construct_object.
        raise SpecError(source, "", _cut(f"invalid YAML: cannot read a value: {err}")) from None


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
    return _cut(f"YAML syntax error at {where}: {problem}")


def _quoted(text: str) -> str:
    """``repr(text)``, the middle of a long text left out. (nas.checks.short is the same
    idea for any value; the ground modules do not import each other.)"""
    if len(text) > _SHOWN // 2:
        text = f"{text[: _SHOWN // 4]}...{text[-_SHOWN // 4 :]}"
    return repr(text)


def _cut(message: str) -> str:
    """``message`` cut short: PyYAML's messages quote tags and text of any length."""
    limit = 3 * _SHOWN
    return message if len(message) <= limit else message[: limit - 3] + "..."
