"""Every field a space file accepts, as data for people (``nas fields``) and editors (the
JSON Schema, :mod:`nas.space.schema`): generated from the definitions that validate files
(:mod:`nas.space.fields`) and from the dataclasses a candidate is made of
(:mod:`nas.model.architecture`: each layer type's docstring and defaults), so it cannot fall
behind them."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from typing import Any

from nas.model.architecture import LAYER_TYPES, Architecture
from nas.space.fields import (
    LAYER_FIELDS,
    OPTIMIZER_ATTRS,
    OPTIMIZER_FIELDS,
    REPEAT,
    REQUIRED,
    SKIP,
    FieldSpec,
)

# The sections of a space file besides the layer types, under the names ``nas fields`` takes.
SECTIONS = ("template", "optimizer")


@dataclass(frozen=True)
class FieldDoc:
    """One field: its name, value type (``int``, ``float``, ``bool``, ``str``), default
    (``None`` where it is ``required`` or its default is null), the values it accepts in
    words, and its :class:`~nas.space.fields.FieldSpec`."""

    name: str
    kind: str
    default: Any
    required: bool
    allowed: str
    spec: FieldSpec


@dataclass(frozen=True)
class SectionDoc:
    """A layer type (or a section such as ``optimizer``): a one-line summary and its fields."""

    name: str
    summary: str
    fields: tuple[FieldDoc, ...]


def layer_docs() -> dict[str, SectionDoc]:
    """Every layer type, in :data:`~nas.model.architecture.LAYER_TYPES` order."""
    out = {}
    for name, cls in LAYER_TYPES.items():
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        fields = tuple(
            _doc(field, spec, defaults[field], field in REQUIRED[name])
            for field, spec in LAYER_FIELDS[name].items()
        )
        out[name] = SectionDoc(name, _summary(cls), fields)
    return out


def section_docs() -> dict[str, SectionDoc]:
    """The sections other than layer types: ``template`` (the keys every entry of
    ``layers:`` takes besides its layer fields) and ``optimizer``."""
    defaults = {f.name: f.default for f in dataclasses.fields(Architecture)}
    optimizer = tuple(
        _doc(name, spec, defaults[OPTIMIZER_ATTRS[name]], False)
        for name, spec in OPTIMIZER_FIELDS.items()
    )
    template = (
        _doc("repeat", REPEAT, 1, False),
        _doc("skip (top level)", SKIP, defaults["skip"], False),
    )
    return {
        "template": SectionDoc(
            "template",
            "Keys of a layer template (type or one_of) besides its layer fields, and the "
            "space's skip connections.",
            template,
        ),
        "optimizer": SectionDoc(
            "optimizer",
            "The optimizer section (also fixed by an experiment's training).",
            optimizer,
        ),
    }


def _doc(name: str, spec: FieldSpec, default: Any, required: bool) -> FieldDoc:
    missing = required or default is dataclasses.MISSING
    return FieldDoc(name, spec.kind, None if missing else default, missing, spec.expect, spec)


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    return " ".join(doc.split("\n\n")[0].split()).replace("``", "")
