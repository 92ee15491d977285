"""Classification data: built-in sets and the user's own files, in the view a space needs,
with a fixed test split and a seeded validation split.

:func:`parse_spec` checks a dataset spec (the format is described in
:mod:`nas.data.datasets`) without reading data; :func:`load_dataset` reads it into a
:class:`Dataset`. :func:`stratified_split` is the per-class split both splits use, and
:func:`digits_arrays` gives scikit-learn's digits without importing scikit-learn.
Benchmark tables (``nb201/...``: results looked up instead of trained) are in
:mod:`nas.data.tables`; :func:`lookup` answers a cell from one.
"""

from nas.data.builtin import BUILTINS, digits_arrays
from nas.data.datasets import Dataset, load_dataset
from nas.data.specs import SPEC_KEYS, DataSpec, parse_spec
from nas.data.splits import stratified_split
from nas.data.tables import (
    LOOKUPS,
    TABLE_METRICS,
    TABLE_OPS,
    TABLES,
    best_key,
    is_table,
    lookup,
    table_cell,
    table_key,
)

__all__ = [
    "BUILTINS",
    "LOOKUPS",
    "SPEC_KEYS",
    "TABLES",
    "TABLE_METRICS",
    "TABLE_OPS",
    "DataSpec",
    "Dataset",
    "best_key",
    "digits_arrays",
    "is_table",
    "load_dataset",
    "lookup",
    "parse_spec",
    "stratified_split",
    "table_cell",
    "table_key",
]
