"""The JSON Schema of space files, for editors to check and complete them as they are typed
(``nas schema space``). Generated from the definitions that validate a file
(:mod:`nas.space.fields`), so each field accepts the same types, ranges and names in both.

The schema checks each field on its own; what needs several fields at once (``low <= high``,
a step that divides the range, a required field set under ``shared``, layer orders the input
cannot take, unique choices of equal value) is left to the loader, so a file the schema
accepts may still be refused, never the reverse.
"""

from __future__ import annotations

from typing import Any

from nas.checks import Bounds
from nas.model.architecture import LAYER_TYPES
from nas.space.fields import (
    LAYER_FIELDS,
    MAX_LAYERS,
    OPTIMIZER_FIELDS,
    REPEAT,
    SKIP,
    FieldSpec,
)
from nas.space.format import INPUT_KINDS, TOP_KEYS
from nas.space.params import RANGE_KEYS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}


def bounds_schema(bounds: Bounds | None) -> dict[str, Any]:
    """``minimum``/``exclusiveMinimum`` and ``maximum``/``exclusiveMaximum`` of ``bounds``."""
    if bounds is None:
        return {}
    out: dict[str, Any] = {("exclusiveMinimum" if bounds.low_open else "minimum"): bounds.low}
    if bounds.high is not None:
        out["exclusiveMaximum" if bounds.high_open else "maximum"] = bounds.high
    return out


def value_schema(spec: FieldSpec) -> dict[str, Any]:
    """One value a field with ``spec`` accepts (a literal)."""
    out: dict[str, Any] = {"type": _JSON_TYPES[spec.kind], **bounds_schema(spec.bounds)}
    if spec.options:
        out["enum"] = list(spec.options)
    if spec.nullable:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def param_schema(spec: FieldSpec) -> dict[str, Any]:
    """A field's parameter: a literal, ``{choices: [...]}`` or (numbers) a range."""
    literal = value_schema(spec)
    choices = {
        "type": "object",
        "properties": {
            "choices": {"type": "array", "items": literal, "minItems": 1, "uniqueItems": True}
        },
        "required": ["choices"],
        "additionalProperties": False,
    }
    options = [literal, choices]
    if spec.kind in ("int", "float"):
        end = {"type": _JSON_TYPES[spec.kind], **bounds_schema(spec.bounds)}
        step = {"type": _JSON_TYPES[spec.kind], "exclusiveMinimum": 0}
        fields = {"low": end, "high": end, "step": step, "log": {"type": "boolean"}}
        assert tuple(fields) == RANGE_KEYS
        options.append(
            {
                "type": "object",
                "properties": fields,
                "required": ["low", "high"],
                "additionalProperties": False,
            }
        )
    return {"description": spec.expect, "anyOf": options}


class _Defs:
    """Each distinct field spec's parameter schema once, under ``$defs``, referred to by
    ``$ref`` wherever a field takes it (named after the first field that does)."""

    def __init__(self) -> None:
        self.names: dict[FieldSpec, str] = {}
        self.schemas: dict[str, Any] = {}

    def param(self, spec: FieldSpec, field: str, qualified: str = "") -> dict[str, Any]:
        if spec not in self.names:
            name = (
                field if field not in self.schemas else qualified or f"{field}.{len(self.schemas)}"
            )
            self.names[spec] = name
            self.schemas[name] = param_schema(spec)
        return {"$ref": f"#/$defs/{self.names[spec]}"}

    def field(self, spec: FieldSpec, field: str, qualified: str = "") -> dict[str, Any]:
        """A layer field's value: a parameter; a cell's ``nodes`` a literal, its ``ops`` a
        parameter or a list of one per edge."""
        if field == "nodes":
            return {"description": spec.expect, **value_schema(spec)}
        if field == "ops":
            each = self.param(spec, field, qualified)
            return {"anyOf": [each, {"type": "array", "minItems": 1, "items": each}]}
        return self.param(spec, field, qualified)

    def layer(self, name: str, *, with_repeat: bool) -> dict[str, Any]:
        properties: dict[str, Any] = {"type": {"const": name}}
        if with_repeat:
            properties["repeat"] = self.param(REPEAT, "repeat")
        properties.update(
            (field, self.field(spec, field, f"{name}.{field}"))
            for field, spec in LAYER_FIELDS[name].items()
        )
        return {
            "title": f"{name} layer",
            "type": "object",
            "properties": properties,
            "required": ["type"],
            "additionalProperties": False,
        }

    def shared(self) -> dict[str, Any]:
        """Every layer field by name; a name whose spec differs by layer type (``kind``,
        ``stride``) accepts what any of them accepts."""
        specs: dict[str, list[FieldSpec]] = {}
        for fields in LAYER_FIELDS.values():
            for field, spec in fields.items():
                if spec not in specs.setdefault(field, []):
                    specs[field].append(spec)
        specs.pop("nodes", None)  # set on each cell, never shared
        properties = {
            field: self.field(found[0], field)
            if len(found) == 1
            else {"anyOf": [self.param(spec, field) for spec in found]}
            for field, found in specs.items()
        }
        return {"type": ["object", "null"], "properties": properties, "additionalProperties": False}


def space_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a space file (format: :mod:`nas.space.format`)."""
    defs = _Defs()
    one_of = {
        "title": "a choice of layer types",
        "type": "object",
        "properties": {
            "one_of": {
                "type": "array",
                "minItems": 1,
                "items": {"anyOf": [defs.layer(name, with_repeat=False) for name in LAYER_TYPES]},
            },
            "repeat": defs.param(REPEAT, "repeat"),
        },
        "required": ["one_of"],
        "additionalProperties": False,
    }
    template = {"anyOf": [*(defs.layer(name, with_repeat=True) for name in LAYER_TYPES), one_of]}
    schema = {
        "$schema": DIALECT,
        "title": "nas search space",
        "description": "A search space of networks: nas fields lists every layer field.",
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "input": {"enum": list(INPUT_KINDS)},
            "skip": defs.param(SKIP, "skip"),
            "shared": defs.shared(),
            "layers": {"type": "array", "minItems": 1, "maxItems": MAX_LAYERS, "items": template},
            "optimizer": {
                "type": ["object", "null"],
                "properties": {
                    name: defs.param(spec, f"optimizer.{name}")
                    for name, spec in OPTIMIZER_FIELDS.items()
                },
                "additionalProperties": False,
            },
        },
        "required": ["name", "input", "layers"],
        "additionalProperties": False,
    }
    assert tuple(schema["properties"]) == TOP_KEYS
    return {**schema, "$defs": defs.schemas}
