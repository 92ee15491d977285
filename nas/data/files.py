"""The user's data files: ``.npz`` archives and csv/parquet tables, checked as they are read.

Every problem inside a file raises :class:`~nas.errors.SpecError` pointing at that file and
the key or column; a label column the table lacks, or a ``test_fraction`` that leaves no test
examples, points at the spec's ``source`` instead.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nas.checks import key_text, short
from nas.data.labels import check_labels
from nas.data.raw import RawData, natural_views
from nas.data.splits import TEST_SEED, stratified_split
from nas.errors import SpecError

if TYPE_CHECKING:
    import pandas as pd

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
TABLE_SUFFIXES = (".csv", ".parquet")
SUFFIXES = (".npz", *TABLE_SUFFIXES)
# NumPy dtype kinds of features: bool, ints and floats. Not complex (casting drops the
# imaginary part) nor timedelta (numbers to NumPy, durations to the user).
REAL_KINDS = "biuf"


def load_npz(path: Path) -> RawData:
    """Read an archive with the keys ``NPZ_KEYS``: numeric features of rank 1 to 3 per
    example, one label per row, at least two classes in training."""
    if not zipfile.is_zipfile(path):
        raise SpecError(path, "", "cannot read as .npz: not an archive written by numpy.savez")
    try:
        # Pickled (object) arrays could run code when loaded, so they are refused.
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise SpecError(
                    path,
                    missing[0],
                    f"missing key; the file has keys {short(sorted(archive.files))}",
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
        check_labels(y, path, f"y_{part}", min_classes=2 if part == "train" else 1)
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
    return RawData(
        name=path.name,
        **arrays,
        views=natural_views(feature_shape),
        origin=str(path),
    )


def load_tables(
    path: Path, label: str, test_path: Path | None, test_fraction: float, source: str | Path
) -> RawData:
    """Read a table whose ``label`` column holds the labels and every other column a numeric
    feature. The test part is the table at ``test_path`` (same columns) or, without one,
    ``test_fraction`` of ``path`` per class, drawn with ``TEST_SEED``."""
    train = _read_table(path)
    if label not in train.columns:
        raise SpecError(
            source,
            "dataset.label",
            f"no column {short(label)} in {path}; its columns are "
            f"{short([str(c) for c in train.columns])}",
        )
    features = [column for column in train.columns if column != label]
    x_train, y_train = _split_table(train, features, label, path)
    check_labels(y_train, path, label, min_classes=2)
    if test_path is None:
        keep, take = stratified_split(y_train, test_fraction, TEST_SEED)
        x_test, y_test = x_train[take], y_train[take]
        x_train, y_train = x_train[keep], y_train[keep]
    else:
        test = _read_table(test_path)
        missing = [str(c) for c in [*features, label] if c not in test.columns]
        if missing:
            raise SpecError(
                test_path, key_text(missing[0]), f"column missing (it is in {path.name})"
            )
        x_test, y_test = _split_table(test, features, label, test_path)
        check_labels(y_test, test_path, label, min_classes=1)
    if len(y_test) == 0:
        raise SpecError(source, "dataset.test_fraction", "leaves no test examples")
    return RawData(
        name=path.name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        views=natural_views((len(features),)),
        origin=str(path),
        label_field=label,
        test_origin=str(test_path or path),
        test_label_field=label,
    )


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd  # loaded for table files only: it costs every search's start-up

    try:
        return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)
    except Exception as err:
        raise SpecError(path, "", f"cannot read as {path.suffix[1:]}: {err}") from None


def _split_table(
    table: pd.DataFrame, features: list, label: str, path: Path
) -> tuple[np.ndarray, np.ndarray]:
    if not features:
        raise SpecError(path, "", f"has no feature columns besides the label {short(label)}")
    # Before the dtype checks: pandas reads the columns of a header-only table as text.
    if len(table) == 0:
        raise SpecError(path, "", "has no rows (only a header)")
    for column in features:
        dtype = table[column].dtype
        if dtype.kind not in REAL_KINDS:
            raise SpecError(
                path, key_text(column), f"feature column is not numeric (dtype {dtype})"
            )
    # Values beyond float32's range become inf, which the check below reports; NumPy's
    # overflow warning on the way would only repeat it.
    with np.errstate(over="ignore"):
        x = table[features].to_numpy(dtype=np.float32, na_value=np.nan)
    finite = np.isfinite(x).all(axis=0)
    bad = [key_text(c) for c, ok in zip(features, finite, strict=True) if not ok]
    if bad:
        raise SpecError(path, bad[0], f"non-finite or missing values (in columns {bad[:5]})")
    return x, table[label].to_numpy()


def _check_features(x: np.ndarray, path: Path, key: str) -> None:
    if x.ndim < 2:
        raise SpecError(path, key, f"must have a row per example, got shape {x.shape}")
    if len(x) == 0:
        raise SpecError(path, key, "has no rows")
    if x.dtype.kind not in REAL_KINDS:
        raise SpecError(
            path, key, f"features must be numeric (bool, int or float), got dtype {x.dtype}"
        )
    with np.errstate(over="ignore"):  # beyond float32's range is inf, reported next
        finite = np.isfinite(x.astype(np.float32)).all()
    if not finite:
        raise SpecError(path, key, "non-finite values (NaN or inf, or beyond float32 range)")
