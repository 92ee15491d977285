"""Dataset specs: checking one without reading data, and reading the data it names.

The spec format is described in :mod:`nas.data.datasets`. Every problem with a spec raises
:class:`~nas.errors.SpecError` pointing at ``source`` and a ``dataset...`` field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nas.checks import did_you_mean, key_text, short
from nas.data.builtin import BUILTINS, load_builtin
from nas.data.files import SUFFIXES, TABLE_SUFFIXES, load_npz, load_tables
from nas.data.raw import RawData
from nas.data.splits import DEFAULT_TEST_FRACTION
from nas.data.tables import LOOKUPS, TABLES, is_table
from nas.errors import SpecError

SPEC_KEYS = ("name", "path", "label", "test_path", "test_fraction", "lookup")


@dataclass(frozen=True)
class DataSpec:
    """A checked dataset spec: a built-in ``name`` (a benchmark table's among them, see
    :mod:`nas.data.tables`), or an absolute data file ``path``.

    ``label``, ``test_path`` and ``test_fraction`` apply to csv/parquet tables only;
    ``lookup`` (one of :data:`~nas.data.tables.LOOKUPS`) to a benchmark table only, and is
    ``None`` for every other spec.
    """

    name: str | None = None
    path: Path | None = None
    label: str | None = None
    test_path: Path | None = None
    test_fraction: float = DEFAULT_TEST_FRACTION
    lookup: str | None = None

    @property
    def table(self) -> str | None:
        """The benchmark table this spec names, or ``None``."""
        return self.name if self.lookup is not None else None


def parse_spec(
    spec: Any, *, source: str | Path = "<dataset>", base_dir: Path | None = None
) -> DataSpec:
    """Check a spec's keys, types and files without reading any data.

    Cheap enough to run when an experiment file is loaded: it only looks at whether the
    files exist. Raises :class:`SpecError` with a ``dataset...`` field.
    """
    if isinstance(spec, str):
        if is_table(spec):
            return DataSpec(name=_table_name(spec, source, "dataset"), lookup="mean")
        return DataSpec(name=_builtin_name(spec, source, "dataset"))
    if not isinstance(spec, Mapping):
        raise SpecError(
            source,
            "dataset",
            f"must be a built-in name {list(BUILTINS)} or a mapping with 'name' or 'path', "
            f"got {type(spec).__name__}",
        )
    unknown = sorted((key for key in spec if key not in SPEC_KEYS), key=key_text)
    if unknown:
        raise SpecError(
            source,
            f"dataset.{key_text(unknown[0])}",
            f"unknown key; allowed keys are {list(SPEC_KEYS)}"
            + did_you_mean(unknown[0], SPEC_KEYS),
        )
    if ("name" in spec) == ("path" in spec):
        raise SpecError(source, "dataset", "give exactly one of 'name' (built-in) or 'path'")
    if "name" in spec and is_table(spec["name"]):
        return _table_spec(spec, source)
    if "lookup" in spec:
        raise SpecError(
            source, "dataset.lookup", f"applies only to a benchmark table ({', '.join(TABLES)})"
        )
    if "name" in spec:
        extra = sorted(key for key in spec if key != "name")
        if extra:
            raise SpecError(source, f"dataset.{extra[0]}", "applies only to a file given by 'path'")
        return DataSpec(name=_builtin_name(spec["name"], source, "dataset.name"))
    path = _existing_file(spec["path"], source, "dataset.path", base_dir)
    if path.suffix == ".npz":
        for key in ("label", "test_path", "test_fraction"):
            if key in spec:
                raise SpecError(
                    source,
                    f"dataset.{key}",
                    "not used with .npz files, which hold their own "
                    "labels and test split (keys x_train, y_train, x_test, y_test)",
                )
        return DataSpec(path=path)
    label = spec.get("label")
    if not isinstance(label, str) or not label:
        raise SpecError(
            source, "dataset.label", "required for csv/parquet files: the label column's name"
        )
    test_path = None
    if spec.get("test_path") is not None:
        test_path = _existing_file(spec["test_path"], source, "dataset.test_path", base_dir)
        if test_path.suffix not in TABLE_SUFFIXES:
            raise SpecError(
                source, "dataset.test_path", f"must be one of {list(TABLE_SUFFIXES)} files"
            )
    test_fraction = spec.get("test_fraction", DEFAULT_TEST_FRACTION)
    if test_path is not None and "test_fraction" in spec:
        raise SpecError(source, "dataset.test_fraction", "cannot be combined with test_path")
    if not is_fraction(test_fraction):
        raise SpecError(
            source,
            "dataset.test_fraction",
            f"must be a number in (0, 1), got {short(test_fraction)}",
        )
    return DataSpec(path=path, label=label, test_path=test_path, test_fraction=float(test_fraction))


def read_spec(spec: DataSpec, source: str | Path) -> RawData:
    """The data a checked spec names, as loaded; problems in the data raise :class:`SpecError`."""
    if spec.name is not None:
        return load_builtin(spec.name)
    assert spec.path is not None
    if spec.path.suffix == ".npz":
        return load_npz(spec.path)
    assert spec.label is not None
    return load_tables(spec.path, spec.label, spec.test_path, spec.test_fraction, source)


def is_fraction(value: Any) -> bool:
    """Whether ``value`` is an int or float (not a bool) strictly between 0 and 1."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1


def _builtin_name(name: Any, source: str | Path, field: str) -> str:
    if name not in BUILTINS:
        raise SpecError(
            source,
            field,
            f"unknown built-in dataset {short(name)}; known: {', '.join(BUILTINS)} "
            f"(for a file write {{path: <file>}})" + did_you_mean(name, BUILTINS),
        )
    return name


def _table_spec(spec: Mapping[str, Any], source: str | Path) -> DataSpec:
    """``{name: nb201/..., lookup: mean|per_seed}``, checked."""
    name = _table_name(spec["name"], source, "dataset.name")
    for key in ("label", "test_path", "test_fraction"):
        if key in spec:
            raise SpecError(
                source,
                f"dataset.{key}",
                f"a benchmark table has no examples or test split: {name} answers each "
                "candidate with its validation accuracy (the search reports no test accuracy)",
            )
    lookup = spec.get("lookup", "mean")
    if lookup not in LOOKUPS:
        raise SpecError(
            source,
            "dataset.lookup",
            f"must be one of {', '.join(LOOKUPS)} (the mean over the table's seeds, or one "
            f"seed's value per query drawn from the search's seed), got {short(lookup)}"
            + did_you_mean(lookup, LOOKUPS),
        )
    return DataSpec(name=name, lookup=lookup)


def _table_name(name: str, source: str | Path, field: str) -> str:
    if name not in TABLES:
        raise SpecError(
            source,
            field,
            f"unknown benchmark table {short(name)}; known: {', '.join(TABLES)}"
            + did_you_mean(name, TABLES),
        )
    return name


def _existing_file(value: Any, source: str | Path, field: str, base_dir: Path | None) -> Path:
    if not isinstance(value, str) or not value:
        raise SpecError(source, field, f"must be a file path string, got {short(value)}")
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.suffix not in SUFFIXES:
        raise SpecError(
            source, field, f"unsupported file type {short(path.suffix)}; expected one of {SUFFIXES}"
        )
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as err:  # e.g. a name longer than the file system allows
        raise SpecError(source, field, f"cannot be a file: {err.strerror}") from None
    if is_dir:
        raise SpecError(source, field, f"is a folder, not a file: {path}")
    if not is_file:
        raise SpecError(source, field, f"file not found: {path}")
    return path.absolute()
