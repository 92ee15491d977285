"""The field reference (``nas fields``) says what the validator accepts, for every field."""

from __future__ import annotations

import dataclasses

import pytest

from nas.errors import SpecError
from nas.model import LAYER_TYPES
from nas.space import Space, layer_docs, section_docs


def test_every_layer_type_and_field_is_documented():
    docs = layer_docs()
    assert list(docs) == list(LAYER_TYPES)
    for name, cls in LAYER_TYPES.items():
        fields = {f.name: f for f in dataclasses.fields(cls)}
        assert [f.name for f in docs[name].fields] == list(fields)
        assert docs[name].summary
        for doc in docs[name].fields:
            default = fields[doc.name].default
            assert doc.required == (default is dataclasses.MISSING)
            assert doc.required or doc.default == default
            assert doc.allowed


def space_with(layer_type: str, field: str, value: object) -> Space:
    layer = {"type": layer_type, field: value}
    if layer_type in ("dense", "conv", "recurrent", "cell") and field != "features":
        layer["features"] = 4
    if layer_type == "cell" and field != "ops":
        layer["ops"] = "conv3x3"
    input_kind = {
        "conv": "image",
        "pool": "image",
        "global_pool": "image",
        "recurrent": "sequence",
        "cell": "image",
    }
    data = {"name": "x", "input": input_kind.get(layer_type, "flat"), "layers": [layer]}
    return Space.from_dict(data)


@pytest.mark.parametrize(
    ("layer_type", "field"),
    [(name, doc.name) for name, section in layer_docs().items() for doc in section.fields],
)
def test_each_documented_default_and_option_is_accepted(layer_type, field):
    doc = next(d for d in layer_docs()[layer_type].fields if d.name == field)
    values = list(doc.spec.options) or ([doc.default] if not doc.required else [4])
    for value in values:
        space_with(layer_type, field, value)
    if doc.spec.options:
        with pytest.raises(SpecError):
            space_with(layer_type, field, "no-such-option")


def test_sections_document_repeat_and_the_optimizer():
    sections = section_docs()
    assert [f.name for f in sections["optimizer"].fields] == [
        "name",
        "learning_rate",
        "weight_decay",
        "batch_size",
    ]
    assert sections["template"].fields[0].name == "repeat"
