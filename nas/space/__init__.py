"""Search spaces: the YAML format of layer templates with placeholders, checked on load,
sampled through the three-method :class:`Suggest` protocol (Optuna's adapter lives in
:mod:`nas.search`; :class:`RandomSuggest` and :class:`FixedSuggest` need no Optuna)."""

from nas.space.fields import OPTIMIZER_ATTRS
from nas.space.format import TOP_KEYS as SPACE_KEYS
from nas.space.format import Space, SpaceSummary, load_space
from nas.space.reference import FieldDoc, SectionDoc, layer_docs, section_docs
from nas.space.schema import DIALECT, space_schema
from nas.space.suggest import FixedSuggest, RandomSuggest, Suggest

__all__ = [
    "DIALECT",
    "OPTIMIZER_ATTRS",
    "SPACE_KEYS",
    "FieldDoc",
    "FixedSuggest",
    "RandomSuggest",
    "SectionDoc",
    "Space",
    "SpaceSummary",
    "Suggest",
    "layer_docs",
    "load_space",
    "section_docs",
    "space_schema",
]
