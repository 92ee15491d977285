"""A search space: a YAML file of layer templates with placeholders, sampled through a Suggest.

Format::

    name: mlp                    # required, str
    input: flat                  # required: flat | sequence | image (what the space is built for)
    skip: {choices: [none, residual, dense]}   # optional, default none
    shared:                      # optional: one value shared by every layer that has the field
      activation: {choices: [relu, gelu, silu]}
    layers:                      # required, non-empty list of layer templates, applied in order
      - type: dense              # a layer type of nas.model.architecture.LAYER_TYPES
        repeat: {low: 1, high: 4}    # optional, default 1: how many layers it adds (0 allowed)
        features: {choices: [32, 64, 128]}
        dropout: {low: 0.0, high: 0.3}
      - one_of:                  # or a choice of layer type, each option with its own fields
          - {type: norm, kind: {choices: [batch, layer]}}
          - {type: dropout, rate: {low: 0.1, high: 0.5}}
        repeat: {low: 0, high: 1}
    optimizer:                   # optional; defaults are Architecture's
      name: adamw                # adamw | adam | sgd
      learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}
      weight_decay: {low: 1.0e-6, high: 1.0e-3, log: true}
      batch_size: {choices: [32, 64, 128]}

Every value is a literal (fixed), ``{choices: [...]}`` (non-empty, unique; null, bool,
number or string) or a range ``{low, high, step?, log?}``: an int range when the bounds
(and step) are ints and the field is not a float field, else a float range; ``low <= high``,
``log`` needs ``low > 0`` and no ``step``, ``step > 0`` divides ``high - low``. Layer fields
are exactly the fields of the layer's dataclass in :mod:`nas.model.architecture` (plus ``repeat``);
one the template does not set comes from ``shared``, else the dataclass default; required
ones (``features``) must be set in one of the two places. ``repeat`` is at most 64, and a
candidate has at most 1000 layers (``MAX_LAYERS``; so does the ``layers:`` list).

Drawn parameter names (Optuna parameter names and table columns; fixed values are not
drawn): ``skip``; a shared field by its own name (drawn when the first layer using it is
made); ``layers.{t}.repeat``; ``layers.{t}.{k}.{field}`` for the k-th layer of template t;
``layers.{t}.{k}.type`` and ``layers.{t}.{k}.{type}.{field}`` under ``one_of``;
``optimizer.{field}``. Layer parameters exist only for layers the candidate has. One name
always comes with one distribution.

A cell layer (``type: cell``) has a fixed ``nodes`` (default 4; not under ``shared``) and
``ops``, one op per edge in :func:`~nas.model.architecture.cell_edges` order: a list of one
value per edge (each a literal or ``{choices: [...]}``), or one value that every edge takes
on its own (``{choices: [...]}``: each edge draws its own op). Edge ``e`` is the parameter
``{name}.{e}`` under the name ``ops`` would have: ``layers.{t}.{k}.ops.{e}``, or ``ops.{e}``
for ``shared: {ops: ...}``, which draws one cell for every cell that sets no ops of its own
(those cells must have one node count)::

    shared:
      ops: {choices: [none, skip, conv1x1, conv3x3, avgpool3x3]}
    layers:
      - {type: cell, repeat: 5, features: 16}
      - {type: cell, features: 32, nodes: 3, reduction: true, ops: [conv3x3, skip, conv3x3]}

The whole file is validated on load, including layer orders that no input could take (conv
on a flat tensor, recurrent in an image space); :meth:`Space.check_input` adds the checks
that need the input shape. Every problem raises ``SpecError(file, field_path, problem)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.checks import did_you_mean, key_text, short
from nas.errors import Problems, SpecError
from nas.model.architecture import LAYER_TYPES, Architecture, Layer
from nas.model.shapes import KINDS
from nas.space.checks import check_input, check_kinds
from nas.space.counting import count_candidates, shared_used_by
from nas.space.fields import (
    LAYER_FIELDS,
    OPTIMIZER_ATTRS,
    OPTIMIZER_FIELDS,
    SKIP,
    cell_nodes,
    parse_field,
    parse_ops,
)
from nas.space.layers import Template, check_required, parse_layers
from nas.space.params import Choice, Fixed, Param, flat_params, found
from nas.space.suggest import Suggest
from nas.yamlio import load_yaml

TOP_KEYS = ("name", "input", "skip", "shared", "layers", "optimizer")
INPUT_KINDS = tuple(KINDS.values())
NO_SKIP = Fixed("none")


@dataclass(frozen=True)
class SpaceSummary:
    """What ``nas validate`` reports about a space.

    ``layers``: the fewest and most layers a candidate has. ``params``: every parameter a
    candidate may draw -> its distribution in words. ``continuous``: those with infinitely
    many values. ``cardinality``: see :meth:`Space.cardinality`.
    """

    name: str
    input_kind: str
    layers: tuple[int, int]
    params: dict[str, str]
    continuous: tuple[str, ...]
    cardinality: int | None


@dataclass(frozen=True)
class Space:
    """A validated search space; build one with :func:`load_space` or :meth:`from_dict`.

    ``source`` (the file, for error messages) takes no part in equality.
    """

    name: str
    input_kind: str
    layers: tuple[Template, ...]
    skip: Param = NO_SKIP
    shared: tuple[tuple[str, Param], ...] = ()
    optimizer: tuple[tuple[str, Param], ...] = ()
    source: str = dataclasses.field(default="<dict>", compare=False)

    @classmethod
    def from_dict(cls, data: Any, source: str | Path = "<dict>") -> Space:
        """Validate the whole of ``data`` (the parsed file); raises :class:`SpecError`."""
        source = str(source)
        if not isinstance(data, dict):
            raise SpecError(
                source, "", f"expected a mapping of {', '.join(TOP_KEYS)}, found {found(data)}"
            )
        # Independent parts are checked apart, so every mistake in them is named at once.
        problems = Problems()
        for key in data:
            if key not in TOP_KEYS:
                problems.add(
                    SpecError(
                        source,
                        key_text(key),
                        f"unknown key {short(key)}; allowed keys: {', '.join(TOP_KEYS)}"
                        + did_you_mean(key, TOP_KEYS),
                    )
                )
        for key in ("name", "input", "layers"):
            if key not in data:
                problems.add(SpecError(source, key, f"missing required key {key!r}"))
        name, kind = data.get("name"), data.get("input")
        if "name" in data and (not isinstance(name, str) or not name):
            problems.add(
                SpecError(source, "name", f"expected a non-empty string, found {found(name)}")
            )
        if "input" in data and kind not in INPUT_KINDS:
            problems.add(
                SpecError(
                    source,
                    "input",
                    f"unknown input kind {short(kind)}; expected one of {', '.join(INPUT_KINDS)}"
                    + did_you_mean(kind, INPUT_KINDS),
                )
            )
        skip = layers = shared = optimizer = None
        with problems.check():
            skip = parse_field(data.get("skip", "none"), SKIP, source, "skip")
        if "layers" in data:
            with problems.check():
                layers = parse_layers(data["layers"], source)
        if layers is not None:
            with problems.check():
                # An empty section written as `shared:` reads as null.
                shared = _parse_shared(_or_empty(data.get("shared")), layers, source)
        if shared is not None:
            with problems.check():
                check_required(layers, {key for key, _ in shared}, source)
        with problems.check():
            optimizer = _parse_optimizer(_or_empty(data.get("optimizer")), source)
        problems.raise_any()
        assert layers is not None and shared is not None and optimizer is not None
        space = cls(name, kind, layers, skip, shared, optimizer, source)
        check_kinds(space)
        return space

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data; ``Space.from_dict(space.to_dict()) == space``."""
        return {
            "name": self.name,
            "input": self.input_kind,
            "skip": self.skip.to_data(),
            "shared": {name: p.to_data() for name, p in self.shared},
            "layers": [template.to_data() for template in self.layers],
            "optimizer": {name: p.to_data() for name, p in self.optimizer},
        }

    def sample(self, suggest: Suggest) -> Architecture:
        """One candidate, drawing every value through ``suggest`` (names in the module
        docstring); the same answers from ``suggest`` give the same architecture."""
        shared = dict(self.shared)
        drawn: dict[str, Any] = {}

        def shared_value(name: str) -> Any:
            if name not in drawn:
                drawn[name] = shared[name].draw(suggest, name)
            return drawn[name]

        skip = self.skip.draw(suggest, "skip")
        layers: list[Layer] = []
        for t, template in enumerate(self.layers):
            for k in range(template.repeat.draw(suggest, f"layers.{t}.repeat")):
                prefix = f"layers.{t}.{k}"
                option = template.options[0]
                if template.one_of:
                    if len(template.options) > 1:
                        by_type = {o.type: o for o in template.options}
                        option = by_type[suggest.categorical(f"{prefix}.type", tuple(by_type))]
                    prefix = f"{prefix}.{option.type}"
                own = dict(option.fields)
                values = {
                    name: own[name].draw(suggest, f"{prefix}.{name}")
                    if name in own
                    else shared_value(name)
                    for name in LAYER_FIELDS[option.type]
                    if name in own or name in shared
                }
                layers.append(LAYER_TYPES[option.type](**values))
        optimizer = {
            OPTIMIZER_ATTRS[name]: p.draw(suggest, f"optimizer.{name}")
            for name, p in self.optimizer
        }
        return Architecture(layers=tuple(layers), skip=skip, **optimizer)

    def params(self) -> dict[str, Param]:
        """Every parameter some candidate draws (name -> distribution); fixed values left out."""
        out: dict[str, Param] = {"skip": self.skip}
        names = frozenset(name for name, _ in self.shared)
        used = set().union(
            *(
                shared_used_by(option, names)
                for template in self.layers
                if template.repeats()[-1] > 0
                for option in template.options
            )
        )
        for name, p in self.shared:
            if name in used:
                out.update(flat_params(name, p))
        for t, template in enumerate(self.layers):
            out[f"layers.{t}.repeat"] = template.repeat
            types = tuple(o.type for o in template.options)
            for k in range(template.repeats()[-1]):
                if len(types) > 1:
                    out[f"layers.{t}.{k}.type"] = Choice(types)
                for option in template.options:
                    prefix = f"layers.{t}.{k}" + (f".{option.type}" if template.one_of else "")
                    for name, p in option.fields:
                        out.update(flat_params(f"{prefix}.{name}", p))
        out.update((f"optimizer.{name}", p) for name, p in self.optimizer)
        return {name: p for name, p in out.items() if not isinstance(p, Fixed)}

    def continuous_params(self) -> tuple[str, ...]:
        """Names of the parameters with infinitely many values."""
        return tuple(name for name, p in self.params().items() if p.continuous)

    def cardinality(self) -> int | None:
        """The number of distinct candidates (value sets), counting conditional layers and
        repeats exactly; ``None`` when a continuous parameter can be drawn."""
        return count_candidates(self)

    def describe(self) -> SpaceSummary:
        """Summary data for ``nas validate``."""
        return SpaceSummary(
            name=self.name,
            input_kind=self.input_kind,
            layers=(
                sum(t.repeats()[0] for t in self.layers),
                sum(t.repeats()[-1] for t in self.layers),
            ),
            params={name: p.describe() for name, p in self.params().items()},
            continuous=self.continuous_params(),
            cardinality=self.cardinality(),
        )

    def check_input(self, input_shape: tuple[int, ...], source: str | Path | None = None) -> None:
        """Raise :class:`SpecError` (blaming ``source``, default this space's file) unless every
        candidate can take inputs of ``input_shape`` (no batch axis); the worst case over all
        choices and repeat counts is checked, e.g. pooling that shrinks a size below 1."""
        check_input(self, tuple(input_shape), str(source) if source is not None else self.source)


def load_space(path: str | Path) -> Space:
    """Read and validate the space file at ``path``; raises :class:`SpecError`."""
    return Space.from_dict(load_yaml(path), path)


def _or_empty(section: Any) -> Any:
    return {} if section is None else section


def _parse_shared(
    raw: Any, layers: tuple[Template, ...], source: str
) -> tuple[tuple[str, Param], ...]:
    if not isinstance(raw, dict):
        raise SpecError(source, "shared", f"expected a mapping of field: value, found {found(raw)}")
    types = list(dict.fromkeys(o.type for template in layers for o in template.options))
    out = []
    problems = Problems()
    for name, value in raw.items():
        with problems.check():
            owners = [t for t in types if name in LAYER_FIELDS[t]]
            if not owners:
                fields = dict.fromkeys(f for t in types for f in LAYER_FIELDS[t])
                raise SpecError(
                    source,
                    f"shared.{key_text(name)}",
                    f"{short(name)} is not a field of any layer type used ({', '.join(types)}); "
                    f"allowed keys: {', '.join(fields)}" + did_you_mean(name, fields),
                )
            if name == "nodes":
                raise SpecError(
                    source, "shared.nodes", "set nodes on each cell layer, not under shared"
                )
            if name == "ops":
                out.append((name, _shared_ops(value, layers, source)))
                continue
            # Every layer type that takes the shared value must accept it.
            params = [
                parse_field(value, LAYER_FIELDS[t][name], source, f"shared.{name}") for t in owners
            ]
            out.append((name, params[0]))
    problems.raise_any()
    return tuple(out)


def _shared_ops(raw: Any, layers: tuple[Template, ...], source: str) -> Param:
    """``shared.ops``: one cell drawn once for every cell that sets no ops of its own, so
    those cells must have one node count."""
    nodes = sorted(
        {
            cell_nodes(dict(option.fields), source, template.path(t, i))
            for t, template in enumerate(layers)
            for i, option in enumerate(template.options)
            if option.type == "cell" and option.get("ops") is None
        }
    )
    if len(nodes) > 1:
        raise SpecError(
            source,
            "shared.ops",
            f"the cells that take shared ops have different node counts {nodes}; "
            "shared ops need one",
        )
    return parse_ops(raw, nodes[0] if nodes else 4, source, "shared.ops")


def _parse_optimizer(raw: Any, source: str) -> tuple[tuple[str, Param], ...]:
    if not isinstance(raw, dict):
        raise SpecError(source, "optimizer", f"expected a mapping, found {found(raw)}")
    problems = Problems()
    for key in raw:
        if key not in OPTIMIZER_FIELDS:
            problems.add(
                SpecError(
                    source,
                    f"optimizer.{key_text(key)}",
                    f"unknown key {short(key)}; allowed keys: {', '.join(OPTIMIZER_FIELDS)}"
                    + did_you_mean(key, OPTIMIZER_FIELDS),
                )
            )
    out = []
    for name, spec in OPTIMIZER_FIELDS.items():
        if name in raw:
            with problems.check():
                out.append((name, parse_field(raw[name], spec, source, f"optimizer.{name}")))
    problems.raise_any()
    return tuple(out)
