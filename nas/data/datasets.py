"""Classification data as arrays in the view a search space needs.

A dataset spec is a built-in name (``digits``, ``mnist1d``, ``synthetic``) or a mapping:
``{name: digits}``, ``{path: data.npz}`` or ``{path: train.csv, label: target,
test_path: test.csv, test_fraction: 0.2}`` (the same for ``.parquet``). :func:`load_dataset`
turns it into a :class:`Dataset` in one *view*: ``flat`` ``(N, D)``, ``sequence``
``(N, T, C)`` or ``image`` ``(N, H, W, C)``.

Data without its own test split gets one drawn with the fixed seed ``TEST_SEED``, and the
validation split is drawn from the training part only, so the test examples never depend on
the search seed. Every problem with the spec or the data raises :class:`~nas.errors.SpecError`:
problems with the spec point at ``source`` and a ``dataset...`` field, problems inside a data
file point at that file and the key or column.
"""

from __future__ import annotations

import functools
import importlib.util
import random
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nas.errors import SpecError

Shape = tuple[int, ...]
KINDS = ("flat", "sequence", "image")
BUILTINS = ("digits", "mnist1d", "synthetic")
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
TABLE_SUFFIXES = (".csv", ".parquet")
SUFFIXES = (".npz", *TABLE_SUFFIXES)
SPEC_KEYS = ("name", "path", "label", "test_path", "test_fraction")
# Seed of every test split this module draws; fixed so the test set is the same for all runs.
TEST_SEED = 0
DEFAULT_TEST_FRACTION = 0.2


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Train/validation/test arrays of one classification problem in one view.

    Features are read-only ``float32`` arrays with the batch axis first; labels are read-only
    ``int32`` arrays in ``0..num_classes-1``. ``class_names[k]`` is the original label (as a
    string) of class ``k``; classes are numbered in the sorted order of the originals.
    ``x_train``/``y_train`` is what remains of the training data after the validation split.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple[str, ...]

    @property
    def input_shape(self) -> Shape:
        """Shape of one example (no batch axis)."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, train={len(self.y_train)}, "
            f"val={len(self.y_val)}, test={len(self.y_test)})"
        )


@dataclass(frozen=True)
class DataSpec:
    """A checked dataset spec: a built-in ``name``, or an absolute data file ``path``.

    ``label``, ``test_path`` and ``test_fraction`` apply to csv/parquet tables only.
    """

    name: str | None = None
    path: Path | None = None
    label: str | None = None
    test_path: Path | None = None
    test_fraction: float = DEFAULT_TEST_FRACTION


@dataclass(frozen=True, eq=False)
class _Raw:
    """Arrays as loaded, before label encoding and the validation split.

    ``views`` maps each kind the data can take to its per-example shape; ``origin`` and
    ``label_field`` are where problems with the labels are reported (the data file and its
    label key or column, or the built-in name).
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    views: dict[str, Shape]
    origin: str
    label_field: str = "y_train"


def load_dataset(
    spec: str | Mapping[str, Any],
    *,
    kind: str,
    val_fraction: float = 0.2,
    seed: int = 0,
    source: str | Path = "<dataset>",
    base_dir: Path | None = None,
) -> Dataset:
    """Load ``spec`` in the view ``kind`` with a stratified validation split drawn with ``seed``.

    ``val_fraction`` (in (0, 1)) of the training data, per class, becomes the validation set;
    the test set is unaffected by ``seed`` and ``val_fraction``. Relative paths in ``spec``
    resolve against ``base_dir`` (default: the working directory). Built-in data are generated
    once per process. Raises ``ValueError`` for an unknown ``kind`` (a caller's bug) and
    :class:`SpecError` for every problem with the spec or the data.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    if not _is_number(val_fraction) or not 0 < val_fraction < 1:
        raise SpecError(
            source, "validation_fraction", f"must be a number in (0, 1), got {val_fraction!r}"
        )
    raw = _read(parse_spec(spec, source=source, base_dir=base_dir), source)
    if kind not in raw.views:
        offered = ", ".join(f"{k} {shape}" for k, shape in raw.views.items())
        raise SpecError(
            source,
            "dataset",
            f"{raw.name} cannot be viewed as {kind} input (it offers: {offered}); "
            f"pick a search space whose input is one of these",
        )
    y_train, y_test, class_names = _encode_labels(raw)
    train, val = stratified_split(y_train, val_fraction, seed)
    if len(val) == 0:
        raise SpecError(
            source,
            "validation_fraction",
            f"{val_fraction} of {len(y_train)} training examples leaves no validation examples",
        )
    shape = raw.views[kind]

    def view(x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        x = x if rows is None else x[rows]
        return _frozen(x.reshape(len(x), *shape).astype(np.float32))

    return Dataset(
        name=raw.name,
        x_train=view(raw.x_train, train),
        y_train=_frozen(y_train[train]),
        x_val=view(raw.x_train, val),
        y_val=_frozen(y_train[val]),
        x_test=view(raw.x_test),
        y_test=_frozen(y_test),
        num_classes=len(class_names),
        class_names=class_names,
    )


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(keep, take)`` with about ``fraction`` of each class in ``take``.

    Each class contributes ``round(n * fraction)`` examples to ``take`` but always keeps at
    least one in ``keep``. Both index arrays are sorted; the result depends only on ``y``,
    ``fraction`` and ``seed``.
    """
    rng = np.random.default_rng(seed)
    take = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        count = min(round(len(members) * fraction), len(members) - 1)
        take.append(rng.permutation(members)[:count])
    taken = np.sort(np.concatenate(take)) if take else np.zeros(0, np.int64)
    keep = np.setdiff1d(np.arange(len(y)), taken)
    return keep, taken


# --- specs -------------------------------------------------------------------------------


def parse_spec(
    spec: Any, *, source: str | Path = "<dataset>", base_dir: Path | None = None
) -> DataSpec:
    """Check a spec's keys, types and files without reading any data.

    Cheap enough to run when an experiment file is loaded: it only looks at whether the
    files exist. Raises :class:`SpecError` with a ``dataset...`` field.
    """
    if isinstance(spec, str):
        return DataSpec(name=_builtin_name(spec, source, "dataset"))
    if not isinstance(spec, Mapping):
        raise SpecError(
            source,
            "dataset",
            f"must be a built-in name {list(BUILTINS)} or a mapping with 'name' or 'path', "
            f"got {type(spec).__name__}",
        )
    unknown = sorted(str(key) for key in spec if key not in SPEC_KEYS)
    if unknown:
        raise SpecError(
            source, f"dataset.{unknown[0]}", f"unknown key; allowed keys are {list(SPEC_KEYS)}"
        )
    if ("name" in spec) == ("path" in spec):
        raise SpecError(source, "dataset", "give exactly one of 'name' (built-in) or 'path'")
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
    if not _is_number(test_fraction) or not 0 < test_fraction < 1:
        raise SpecError(
            source, "dataset.test_fraction", f"must be a number in (0, 1), got {test_fraction!r}"
        )
    return DataSpec(path=path, label=label, test_path=test_path, test_fraction=float(test_fraction))


def _read(spec: DataSpec, source: str | Path) -> _Raw:
    if spec.name is not None:
        return _builtin(spec.name)
    assert spec.path is not None
    if spec.path.suffix == ".npz":
        return _load_npz(spec.path)
    assert spec.label is not None
    return _load_tables(spec.path, spec.label, spec.test_path, spec.test_fraction, source)


def _builtin_name(name: Any, source: str | Path, field: str) -> str:
    if name not in BUILTINS:
        raise SpecError(
            source,
            field,
            f"unknown built-in dataset {name!r}; known: {', '.join(BUILTINS)} "
            f"(for a file write {{path: <file>}})",
        )
    return name


def _existing_file(value: Any, source: str | Path, field: str, base_dir: Path | None) -> Path:
    if not isinstance(value, str) or not value:
        raise SpecError(source, field, f"must be a file path string, got {value!r}")
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if path.suffix not in SUFFIXES:
        raise SpecError(
            source, field, f"unsupported file type {path.suffix!r}; expected one of {SUFFIXES}"
        )
    if not path.is_file():
        raise SpecError(source, field, f"file not found: {path}")
    return path.absolute()


# --- files -------------------------------------------------------------------------------


def _load_npz(path: Path) -> _Raw:
    if not zipfile.is_zipfile(path):
        raise SpecError(path, "", "cannot read as .npz: not an archive written by numpy.savez")
    try:
        # Pickled (object) arrays could run code when loaded, so they are refused.
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise SpecError(
                    path, missing[0], f"missing key; the file has keys {sorted(archive.files)}"
                )
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except SpecError:
        raise
    except ValueError:
        raise SpecError(
            path, "", "holds object (pickled) arrays, which are refused; store numbers or text"
        ) from None
    except Exception as err:
        raise SpecError(path, "", f"cannot read as .npz: {err}") from None
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        _check_features(x, path, f"x_{part}")
        if y.ndim != 1:
            raise SpecError(path, f"y_{part}", f"must be one label per row, got shape {y.shape}")
        if len(y) != len(x):
            raise SpecError(
                path, f"y_{part}", f"has {len(y)} labels but x_{part} has {len(x)} rows"
            )
        _check_labels(y, path, f"y_{part}", min_classes=2 if part == "train" else 1)
    feature_shape = arrays["x_train"].shape[1:]
    if arrays["x_test"].shape[1:] != feature_shape:
        raise SpecError(
            path,
            "x_test",
            f"examples have shape {arrays['x_test'].shape[1:]}, but x_train's have {feature_shape}",
        )
    if len(feature_shape) not in (1, 2, 3):
        raise SpecError(
            path,
            "x_train",
            f"examples have shape {feature_shape}; expected (D,), (T, C) or (H, W, C)",
        )
    return _Raw(
        name=path.name,
        **arrays,
        views=_natural_views(feature_shape),
        origin=str(path),
    )


def _load_tables(
    path: Path, label: str, test_path: Path | None, test_fraction: float, source: str | Path
) -> _Raw:
    train = _read_table(path)
    if label not in train.columns:
        raise SpecError(
            source,
            "dataset.label",
            f"no column {label!r} in {path}; its columns are {[str(c) for c in train.columns]}",
        )
    features = [column for column in train.columns if column != label]
    x_train, y_train = _split_table(train, features, label, path)
    _check_labels(y_train, path, label, min_classes=2)
    if test_path is None:
        keep, take = stratified_split(y_train, test_fraction, TEST_SEED)
        x_test, y_test = x_train[take], y_train[take]
        x_train, y_train = x_train[keep], y_train[keep]
    else:
        test = _read_table(test_path)
        missing = [str(c) for c in [*features, label] if c not in test.columns]
        if missing:
            raise SpecError(test_path, missing[0], f"column missing (it is in {path.name})")
        x_test, y_test = _split_table(test, features, label, test_path)
        _check_labels(y_test, test_path, label, min_classes=1)
    if len(y_test) == 0:
        raise SpecError(source, "dataset.test_fraction", "leaves no test examples")
    return _Raw(
        name=path.name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        views=_natural_views((len(features),)),
        origin=str(path),
        label_field=label,
    )


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as err:
        raise SpecError(path, "", f"cannot read as {path.suffix[1:]}: {err}") from None


def _split_table(
    table: pd.DataFrame, features: list, label: str, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    if not features:
        raise SpecError(path, "", f"has no feature columns besides the label {label!r}")
    for column in features:
        dtype = table[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise SpecError(path, str(column), f"feature column is not numeric (dtype {dtype})")
    x = table[features].to_numpy(dtype=np.float32, na_value=np.nan)
    finite = np.isfinite(x).all(axis=0)
    bad = [str(c) for c, ok in zip(features, finite, strict=True) if not ok]
    if bad:
        raise SpecError(path, bad[0], f"non-finite or missing values (in columns {bad[:5]})")
    if len(x) == 0:
        raise SpecError(path, "", "has no rows")
    return x, table[label].to_numpy()


def _check_features(x: np.ndarray, path: Path, key: str) -> None:
    if x.ndim < 2:
        raise SpecError(path, key, f"must have a row per example, got shape {x.shape}")
    if len(x) == 0:
        raise SpecError(path, key, "has no rows")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise SpecError(path, key, f"features must be numeric, got dtype {x.dtype}")
    if not np.isfinite(x.astype(np.float32)).all():
        raise SpecError(path, key, "non-finite values (NaN or inf, or beyond float32 range)")


def _natural_views(feature_shape: Shape) -> dict[str, Shape]:
    """The kind given by the rank, plus ``sequence (D, 1)`` for flat data."""
    shape = tuple(int(s) for s in feature_shape)
    views = {KINDS[len(shape) - 1]: shape}
    if len(shape) == 1:
        views["sequence"] = (shape[0], 1)
    return views


# --- labels ------------------------------------------------------------------------------


def _check_labels(y: np.ndarray, origin: str | Path, field: str, min_classes: int) -> None:
    """Reject missing labels, labels that cannot be sorted, and too few classes."""
    if pd.isna(y).any():
        raise SpecError(origin, field, f"{int(pd.isna(y).sum())} missing label(s)")
    classes = _sorted_classes(y, origin, field)
    if len(classes) < min_classes:
        raise SpecError(
            origin,
            field,
            f"has {len(classes)} class(es) {[str(c) for c in classes]}; "
            f"classification needs at least {min_classes}",
        )


def _sorted_classes(y: np.ndarray, origin: str | Path, field: str) -> np.ndarray:
    try:
        return np.unique(y)
    except TypeError:
        raise SpecError(
            origin, field, "labels mix types that cannot be sorted (e.g. numbers and text)"
        ) from None


def _encode_labels(raw: _Raw) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Map the original labels (train and test together) to ``0..K-1`` in sorted order.

    Where either part holds text, both are compared as text: a test table whose labels all
    look like numbers is read as numbers, yet ``3`` there is the training set's ``"3"``.
    """
    parts = [raw.y_train, raw.y_test]
    if any(y.dtype.kind in "OSU" for y in parts):
        parts = [y.astype(str) for y in parts]
    both = np.concatenate(parts)
    classes = _sorted_classes(both, raw.origin, raw.label_field)
    codes = np.searchsorted(classes, both).astype(np.int32)
    y_train, y_test = codes[: len(raw.y_train)], codes[len(raw.y_train) :]
    return y_train, y_test, tuple(str(c) for c in classes)


# --- built-ins ---------------------------------------------------------------------------


@functools.cache
def _builtin(name: str) -> _Raw:
    """Built-in data, generated once per process (mnist1d takes about a second)."""
    raw = {"digits": _digits, "mnist1d": _mnist1d, "synthetic": _synthetic}[name]()
    for array in (raw.x_train, raw.y_train, raw.x_test, raw.y_test):
        _frozen(array)
    return raw


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits as ``(data (1797, 64) in 0..16, target)``, read from the file
    the package bundles, without importing scikit-learn (about a second of start-up); the same
    arrays as ``sklearn.datasets.load_digits()``, which is the fallback if the file moved."""
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",", dtype=np.float64)
            return table[:, :-1], table[:, -1].astype(int)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data, bunch.target


def _digits() -> _Raw:
    """scikit-learn's 8x8 digits (1797 images, bundled with the package), scaled to [0, 1]."""
    data, target = digits_arrays()
    x = (data / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = target.astype(np.int32)
    keep, take = stratified_split(y, DEFAULT_TEST_FRACTION, TEST_SEED)
    return _Raw(
        name="digits",
        x_train=x[keep],
        y_train=y[keep],
        x_test=x[take],
        y_test=y[take],
        # A sequence view reads the image row by row: 8 steps of 8 pixels.
        views={"flat": (64,), "sequence": (8, 8), "image": (8, 8, 1)},
        origin="digits",
    )


def _mnist1d() -> _Raw:
    """MNIST-1D generated locally with the package's defaults: 4000 train / 1000 test, length 40.

    ``make_dataset`` builds the data from templates; ``get_dataset`` would try to download.
    """
    from mnist1d.data import make_dataset

    # make_dataset reseeds the global `random` and NumPy generators; restore them so loading
    # data does not change the randomness of the caller.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset()
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return _Raw(
        name="mnist1d",
        x_train=np.asarray(data["x"], np.float32),
        y_train=np.asarray(data["y"], np.int32),
        x_test=np.asarray(data["x_test"], np.float32),
        y_test=np.asarray(data["y_test"], np.int32),
        views=_natural_views((40,)),
        origin="mnist1d",
    )


def _synthetic(
    classes: int = 4, features: int = 16, train_per_class: int = 150, test_per_class: int = 50
) -> _Raw:
    """Gaussian blobs: unit noise around class centres drawn with spread 0.75 per feature.

    Centres sit about 4 noise widths apart, so a small network reaches roughly 95% accuracy
    within a few epochs while leaving room to tell better models from worse.
    """
    rng = np.random.default_rng(TEST_SEED)
    centres = rng.normal(scale=0.75, size=(classes, features))

    def draw(per_class: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.permutation(np.repeat(np.arange(classes, dtype=np.int32), per_class))
        x = centres[y] + rng.normal(size=(len(y), features))
        return x.astype(np.float32), y

    x_train, y_train = draw(train_per_class)
    x_test, y_test = draw(test_per_class)
    return _Raw(
        name="synthetic",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        views=_natural_views((features,)),
        origin="synthetic",
    )


# --- helpers -----------------------------------------------------------------------------


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
