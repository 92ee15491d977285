"""Layer templates of a space: what one entry of ``layers:`` may produce.

A :class:`Template` adds ``repeat`` layers, each one of its :class:`LayerOption` s (one option,
or several under ``one_of``). An option holds only the fields the file sets; the others come
from ``shared`` or the layer dataclass' defaults when a candidate is drawn.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from nas.checks import did_you_mean, key_text, short
from nas.errors import Problems, SpecError
from nas.model.architecture import LAYER_TYPES
from nas.space.fields import (
    LAYER_FIELDS,
    MAX_LAYERS,
    REPEAT,
    REQUIRED,
    cell_nodes,
    parse_field,
    parse_ops,
)
from nas.space.params import Fixed, Param, found

TEMPLATE_KEYS = ("type", "repeat")
ONCE = Fixed(1)


@dataclass(frozen=True)
class LayerOption:
    """One layer type and the fields the file sets for it, in dataclass field order."""

    type: str
    fields: tuple[tuple[str, Param], ...] = ()

    def get(self, name: str) -> Param | None:
        return dict(self.fields).get(name)

    def to_data(self) -> dict[str, Any]:
        return {"type": self.type, **{name: p.to_data() for name, p in self.fields}}


@dataclass(frozen=True)
class Template:
    """One entry of ``layers:``: ``repeat`` layers, each drawn from ``options``."""

    options: tuple[LayerOption, ...]
    repeat: Param = ONCE
    one_of: bool = False

    def repeats(self) -> tuple[int, ...]:
        """Every number of layers this template can add, ascending."""
        return tuple(sorted(set(self.repeat.values())))

    def path(self, t: int, i: int) -> str:
        """Field path of option ``i`` of template ``t``."""
        return f"layers[{t}].one_of[{i}]" if self.one_of else f"layers[{t}]"

    def to_data(self) -> dict[str, Any]:
        if self.one_of:
            return {"one_of": [o.to_data() for o in self.options], "repeat": self.repeat.to_data()}
        option = self.options[0].to_data()
        return {"type": option.pop("type"), "repeat": self.repeat.to_data(), **option}


class Templates(Protocol):
    """What the whole-space checks and counts read of a space (a
    :class:`~nas.space.format.Space` is one): its input kind, templates, shared and
    optimizer parameters, skip parameter and source file."""

    input_kind: str
    layers: tuple[Template, ...]
    skip: Param
    shared: tuple[tuple[str, Param], ...]
    optimizer: tuple[tuple[str, Param], ...]
    source: str

    def continuous_params(self) -> tuple[str, ...]: ...


def parse_layers(raw: Any, source: str) -> tuple[Template, ...]:
    """Read the ``layers:`` list: at most ``MAX_LAYERS`` templates, which together add at
    most ``MAX_LAYERS`` layers to a candidate; raises :class:`SpecError` at ``layers[...]``."""
    if not isinstance(raw, list):
        raise SpecError(source, "layers", f"expected a list of layer templates, found {found(raw)}")
    if not raw:
        raise SpecError(source, "layers", "layers is empty; give at least one layer template")
    if len(raw) > MAX_LAYERS:
        raise SpecError(
            source, "layers", f"{len(raw):,} layer templates; at most {MAX_LAYERS:,} are allowed"
        )
    # Each template is checked on its own, so the mistakes of all of them are named at once.
    problems = Problems()
    parsed = []
    for t, item in enumerate(raw):
        with problems.check():
            parsed.append(_parse_template(item, source, f"layers[{t}]"))
    problems.raise_any()
    templates = tuple(parsed)
    most = sum(template.repeats()[-1] for template in templates)
    if most > MAX_LAYERS:
        raise SpecError(
            source,
            "layers",
            f"a candidate can have up to {most:,} layers; at most {MAX_LAYERS:,} are allowed "
            "(lower some repeat)",
        )
    return templates


def check_required(templates: tuple[Template, ...], shared: Collection[str], source: str) -> None:
    """Every required field (e.g. ``features``) is set by its option or under ``shared``."""
    problems = Problems()
    for t, template in enumerate(templates):
        for i, option in enumerate(template.options):
            for name in REQUIRED[option.type]:
                if option.get(name) is None and name not in shared:
                    problems.add(
                        SpecError(
                            source,
                            f"{template.path(t, i)}.{name}",
                            f"missing required key {name!r} for a {option.type} layer; "
                            "set it here or under shared",
                        )
                    )
    problems.raise_any()


def _parse_template(raw: Any, source: str, path: str) -> Template:
    if not isinstance(raw, dict):
        raise SpecError(source, path, f"expected a layer template (a mapping), found {found(raw)}")
    problems = Problems()
    repeat = ONCE
    with problems.check():
        repeat = parse_field(raw.get("repeat", 1), REPEAT, source, f"{path}.repeat")
    if "one_of" not in raw:
        option = None
        with problems.check():
            option = _parse_option(raw, source, path, TEMPLATE_KEYS)
        problems.raise_any()
        assert option is not None
        return Template((option,), repeat)
    if "type" in raw:
        raise SpecError(source, path, "a layer template has either type or one_of, not both")
    for key in raw:
        if key not in ("one_of", "repeat"):
            problems.add(
                SpecError(
                    source,
                    f"{path}.{key_text(key)}",
                    f"unknown key {short(key)} next to one_of; allowed keys: one_of, repeat "
                    "(set layer fields inside each option)"
                    + did_you_mean(key, ("one_of", "repeat")),
                )
            )
    items = raw["one_of"]
    if not isinstance(items, list):
        problems.add(
            SpecError(source, f"{path}.one_of", f"expected a list of options, found {found(items)}")
        )
    elif not items:
        problems.add(
            SpecError(source, f"{path}.one_of", "one_of is empty; give at least one option")
        )
    options: list[LayerOption] = []
    for i, item in enumerate(items if isinstance(items, list) else ()):
        with problems.check():
            option = _parse_option(item, source, f"{path}.one_of[{i}]", ("type",))
            if any(o.type == option.type for o in options):
                raise SpecError(
                    source,
                    f"{path}.one_of[{i}].type",
                    f"duplicate option type {option.type!r}; the option types of one_of must "
                    "differ",
                )
            options.append(option)
    problems.raise_any()
    return Template(tuple(options), repeat, one_of=True)


def _parse_option(raw: Any, source: str, path: str, extra: tuple[str, ...]) -> LayerOption:
    if not isinstance(raw, dict):
        raise SpecError(source, path, f"expected a layer (a mapping), found {found(raw)}")
    if "type" not in raw:
        raise SpecError(source, f"{path}.type", "missing required key 'type' (or one_of)")
    kind = raw["type"]
    if not isinstance(kind, str) or kind not in LAYER_TYPES:
        raise SpecError(
            source,
            f"{path}.type",
            f"unknown layer type {short(kind)}; expected one of {', '.join(LAYER_TYPES)}"
            + did_you_mean(kind, LAYER_TYPES),
        )
    specs = LAYER_FIELDS[kind]
    allowed = (*extra, *specs)
    # Each key is checked on its own, so every bad field of the layer is named at once.
    problems = Problems()
    for key in raw:
        if key not in allowed:
            problems.add(
                SpecError(
                    source,
                    f"{path}.{key_text(key)}",
                    f"unknown key {short(key)} for a {kind} layer; "
                    f"allowed keys: {', '.join(allowed)}" + did_you_mean(key, allowed),
                )
            )
    fields = []
    for name, spec in specs.items():
        if name in raw and name != "ops":
            with problems.check():
                fields.append((name, parse_field(raw[name], spec, source, f"{path}.{name}")))
    # A cell's ops list has one entry per edge, so it is read once its node count is known.
    if "ops" in raw and not ("nodes" in raw and "nodes" not in dict(fields)):
        with problems.check():
            nodes = cell_nodes(dict(fields), source, path)
            fields.append(("ops", parse_ops(raw["ops"], nodes, source, f"{path}.ops")))
    problems.raise_any()
    order = list(specs)
    return LayerOption(kind, tuple(sorted(fields, key=lambda item: order.index(item[0]))))
