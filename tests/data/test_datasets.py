"""Built-in and file datasets: views, splits, label encoding and every rejected input."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nas.data import (
    Dataset,
    DataSpec,
    builtin,
    digits_arrays,
    load_dataset,
    parse_spec,
    stratified_split,
)
from nas.data.shapes32 import shapes32_arrays
from nas.errors import SpecError

# name, kind, example shape, classes, train+val examples, test examples
BUILTIN_VIEWS = [
    ("digits", "flat", (64,), 10, 1438, 359),
    ("digits", "sequence", (8, 8), 10, 1438, 359),
    ("digits", "image", (8, 8, 1), 10, 1438, 359),
    ("mnist1d", "flat", (40,), 10, 4000, 1000),
    ("mnist1d", "sequence", (40, 1), 10, 4000, 1000),
    ("synthetic", "flat", (16,), 4, 600, 200),
    ("synthetic", "sequence", (16, 1), 4, 600, 200),
    ("shapes32", "image", (32, 32, 3), 10, 8000, 2000),
    ("shapes32", "flat", (3072,), 10, 8000, 2000),
]


def rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x}


def class_fractions(y: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(y, minlength=num_classes) / len(y)


@pytest.mark.parametrize(("name", "kind", "shape", "classes", "n_train", "n_test"), BUILTIN_VIEWS)
def test_builtin_views(name, kind, shape, classes, n_train, n_test):
    data = load_dataset(name, kind=kind, val_fraction=0.25, seed=3)
    assert data.name == name
    assert data.input_shape == shape
    assert data.num_classes == classes
    assert data.class_names == tuple(str(k) for k in range(classes))
    for x, y in (
        (data.x_train, data.y_train),
        (data.x_val, data.y_val),
        (data.x_test, data.y_test),
    ):
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.shape == (len(y), *shape)
        assert y.min() >= 0 and y.max() < classes
        assert np.isfinite(x).all()
        assert not x.flags.writeable and not y.flags.writeable
    assert len(data.y_train) + len(data.y_val) == n_train
    assert len(data.y_val) == pytest.approx(0.25 * n_train, abs=classes)
    assert len(data.y_test) == n_test
    assert not rows(data.x_train) & rows(data.x_val)
    assert not rows(data.x_test) & (rows(data.x_train) | rows(data.x_val))
    # Stratified: each class is about as frequent in validation as in training.
    np.testing.assert_allclose(
        class_fractions(data.y_val, classes), class_fractions(data.y_train, classes), atol=0.02
    )


def test_digits_scaled_to_unit_interval():
    data = load_dataset("digits", kind="image")
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0


def test_digits_read_from_the_bundled_file_equal_scikit_learns():
    from sklearn.datasets import load_digits

    data, target = digits_arrays()
    bunch = load_digits()
    np.testing.assert_array_equal(data, bunch.data)
    np.testing.assert_array_equal(target, bunch.target)


def test_digits_sequence_reads_image_rows():
    image = load_dataset("digits", kind="image", seed=5)
    sequence = load_dataset("digits", kind="sequence", seed=5)
    np.testing.assert_array_equal(sequence.x_val, image.x_val[..., 0])


@pytest.mark.parametrize("name", ["digits", "mnist1d", "synthetic", "shapes32"])
def test_seed_moves_validation_split_but_never_test_split(name):
    first = load_dataset(name, kind="flat", seed=0)
    again = load_dataset(name, kind="flat", seed=0)
    other = load_dataset(name, kind="flat", seed=1)
    fewer = load_dataset(name, kind="flat", seed=0, val_fraction=0.1)
    np.testing.assert_array_equal(first.x_val, again.x_val)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert rows(first.x_val) != rows(other.x_val)
    assert rows(first.x_train) | rows(first.x_val) == rows(other.x_train) | rows(other.x_val)
    for moved in (other, fewer):
        np.testing.assert_array_equal(first.x_test, moved.x_test)
        np.testing.assert_array_equal(first.y_test, moved.y_test)


def test_shapes32_is_the_same_on_every_generation_and_in_the_unit_interval():
    first = shapes32_arrays()
    again = shapes32_arrays()
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    x_train, y_train, _, y_test = first
    assert x_train.min() >= 0.0 and x_train.max() <= 1.0
    assert np.bincount(y_train).tolist() == [800] * 10
    assert np.bincount(y_test).tolist() == [200] * 10


def test_shapes32_classes_are_not_told_apart_by_colour():
    # The class is the figure's geometry: per-class mean colours stay close to each other.
    x_train, y_train, _, _ = shapes32_arrays()
    means = np.stack([x_train[y_train == k].mean(axis=(0, 1, 2)) for k in range(10)])
    assert np.ptp(means, axis=0).max() < 0.05


def test_mnist1d_leaves_global_random_state_alone():
    builtin.load_builtin.cache_clear()  # force the generator to run in this test
    random.seed(7)
    np.random.seed(7)
    expected = (random.random(), np.random.rand())
    random.seed(7)
    np.random.seed(7)
    load_dataset("mnist1d", kind="flat")
    assert (random.random(), np.random.rand()) == expected


@pytest.mark.parametrize(
    ("y", "fraction", "taken_per_class"),
    [
        (np.repeat([0, 1, 2], [10, 20, 30]), 0.2, [2, 4, 6]),
        (np.repeat([0, 1], [1, 9]), 0.5, [0, 4]),  # a singleton class stays in `keep`
        (np.repeat([0, 1], [2, 2]), 0.9, [1, 1]),
    ],
)
def test_stratified_split(y, fraction, taken_per_class):
    keep, take = stratified_split(y, fraction, seed=0)
    assert np.bincount(y[take], minlength=len(taken_per_class)).tolist() == taken_per_class
    assert sorted([*keep, *take]) == list(range(len(y)))
    assert np.all(np.diff(keep) > 0) and np.all(np.diff(take) > 0)


# --- files -------------------------------------------------------------------------------


def write_npz(path: Path, feature_shape: tuple[int, ...], labels=(0, 1, 2), **overrides) -> Path:
    rng = np.random.default_rng(0)
    arrays = {}
    for part, n in (("train", 60), ("test", 15)):
        arrays[f"x_{part}"] = rng.normal(size=(n, *feature_shape))
        arrays[f"y_{part}"] = np.asarray(labels)[np.arange(n) % len(labels)]
    arrays.update(overrides)
    arrays = {key: value for key, value in arrays.items() if value is not None}
    np.savez(path, **arrays)
    return path


def make_table(n: int = 50, labels=("b", "a", "c"), seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "f1": rng.normal(size=n),
            "target": [labels[i % len(labels)] for i in range(n)],
            "f2": rng.integers(0, 5, size=n),
        }
    )


def write_table(table: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        table.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    ("feature_shape", "kind", "view_shape"),
    [
        ((6,), "flat", (6,)),
        ((6,), "sequence", (6, 1)),
        ((5, 3), "sequence", (5, 3)),
        ((4, 4, 2), "image", (4, 4, 2)),
    ],
)
def test_npz_round_trip(tmp_path, feature_shape, kind, view_shape):
    path = write_npz(tmp_path / "data.npz", feature_shape)
    data = load_dataset({"path": str(path)}, kind=kind, val_fraction=0.2)
    stored = np.load(path)
    assert data.name == "data.npz" and data.input_shape == view_shape
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (48, 12, 15)
    expected_test = stored["x_test"].astype(np.float32).reshape(15, *view_shape)
    np.testing.assert_array_equal(data.x_test, expected_test)
    np.testing.assert_array_equal(data.y_test, stored["y_test"])
    stored_train = rows(stored["x_train"].astype(np.float32).reshape(60, *view_shape))
    assert rows(data.x_train) | rows(data.x_val) == stored_train


@pytest.mark.parametrize(
    ("labels", "class_names"),
    [
        (("dog", "cat", "bird"), ("bird", "cat", "dog")),
        ((10, 2, 3), ("2", "3", "10")),  # numbers sort as numbers, not as text
        ((True, False), ("False", "True")),
    ],
)
def test_labels_map_to_sorted_codes(tmp_path, labels, class_names):
    path = write_npz(tmp_path / "data.npz", (4,), labels=labels)
    data = load_dataset({"path": str(path)}, kind="flat")
    assert data.class_names == class_names
    stored = np.load(path)["y_test"]
    decoded = [data.class_names[k] for k in data.y_test]
    assert decoded == [str(v) for v in stored]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_with_test_file(tmp_path, suffix):
    write_table(make_table(40), tmp_path / f"train{suffix}")
    test_table = make_table(12, seed=1)
    write_table(test_table, tmp_path / f"test{suffix}")
    spec = {"path": f"train{suffix}", "label": "target", "test_path": f"test{suffix}"}
    data = load_dataset(spec, kind="flat", base_dir=tmp_path)
    assert data.name == f"train{suffix}"
    assert data.class_names == ("a", "b", "c")
    assert data.input_shape == (2,)  # feature columns f1, f2 in file order
    assert len(data.y_train) + len(data.y_val) == 40
    expected = test_table[["f1", "f2"]].to_numpy(np.float32)
    np.testing.assert_array_equal(data.x_test, expected)
    assert [data.class_names[k] for k in data.y_test] == test_table["target"].tolist()
    sequence = load_dataset(spec, kind="sequence", base_dir=tmp_path)
    assert sequence.input_shape == (2, 1)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_without_test_file_splits_with_fixed_seed(tmp_path, suffix):
    table = make_table(100, labels=(3, 1, 2, 0))
    write_table(table, tmp_path / f"all{suffix}")
    spec = {"path": str(tmp_path / f"all{suffix}"), "label": "target", "test_fraction": 0.4}
    first = load_dataset(spec, kind="flat", seed=0)
    other = load_dataset(spec, kind="flat", seed=9)
    assert first.class_names == ("0", "1", "2", "3")
    assert np.bincount(first.y_test).tolist() == [10, 10, 10, 10]  # 25 per class * 0.4
    np.testing.assert_array_equal(first.x_test, other.x_test)
    assert rows(first.x_val) != rows(other.x_val)
    everything = rows(table[["f1", "f2"]].to_numpy(np.float32))
    assert rows(first.x_train) | rows(first.x_val) | rows(first.x_test) == everything


def test_relative_paths_resolve_against_base_dir(tmp_path, monkeypatch):
    folder = tmp_path / "experiments"
    folder.mkdir()
    write_npz(folder / "data.npz", (3,))
    monkeypatch.chdir(tmp_path)
    assert load_dataset({"path": "data.npz"}, kind="flat", base_dir=folder).input_shape == (3,)
    with pytest.raises(SpecError, match="file not found"):
        load_dataset({"path": "data.npz"}, kind="flat")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mnist1d", DataSpec(name="mnist1d")),
        ({"name": "digits"}, DataSpec(name="digits")),
        ({"path": "broken.npz"}, DataSpec(path=Path("broken.npz"))),
        (
            {"path": "t.csv", "label": "y", "test_fraction": 0.5},
            DataSpec(path=Path("t.csv"), label="y", test_fraction=0.5),
        ),
    ],
)
def test_parse_spec_checks_without_reading(tmp_path, spec, expected):
    (tmp_path / "broken.npz").write_bytes(b"not an archive")
    (tmp_path / "t.csv").write_bytes(b"\x00\x01")
    parsed = parse_spec(spec, source="exp.yaml", base_dir=tmp_path)
    if expected.path is not None:
        expected = DataSpec(**{**expected.__dict__, "path": tmp_path / expected.path})
    assert parsed == expected


# --- errors ------------------------------------------------------------------------------


def npz_case(feature_shape=(4,), **overrides) -> Callable[[Path], dict]:
    def build(tmp_path: Path) -> dict:
        return {"path": str(write_npz(tmp_path / "bad.npz", feature_shape, **overrides))}

    return build


def table_case(table: pd.DataFrame, test: pd.DataFrame | None = None, **spec) -> Callable:
    def build(tmp_path: Path) -> dict:
        write_table(table, tmp_path / "train.csv")
        if test is not None:
            write_table(test, tmp_path / "test.csv")
            spec.setdefault("test_path", str(tmp_path / "test.csv"))
        return {"path": str(tmp_path / "train.csv"), **spec}

    return build


def fixed(spec) -> Callable[[Path], object]:
    return lambda tmp_path: spec


def nan_table() -> pd.DataFrame:
    table = make_table()
    table.loc[3, "f2"] = np.nan
    return table


def text_feature_table() -> pd.DataFrame:
    table = make_table()
    table["f1"] = "x"
    return table


def touch(name: str) -> Callable[[Path], dict]:
    def build(tmp_path: Path) -> dict:
        (tmp_path / name).write_text("1,2\n")
        return {"path": str(tmp_path / name)}

    return build


BAD_X = np.ones((60, 4))
BAD_X[5, 1] = np.inf

# id, spec builder, kind, extra kwargs, field, problem fragment, error points at data file
ERRORS = [
    ("unknown-builtin", fixed("cifar"), "flat", {}, "dataset",
     "unknown built-in dataset 'cifar'; known: digits, mnist1d, synthetic, shapes32", False),
    ("unknown-name", fixed({"name": "cifar"}), "flat", {}, "dataset.name",
     "known: digits, mnist1d, synthetic, shapes32", False),
    ("wrong-spec-type", fixed(3), "flat", {}, "dataset", "got int", False),
    ("unknown-key", fixed({"name": "digits", "color": 1}), "flat", {}, "dataset.color",
     "unknown key; allowed keys are ['name', 'path'", False),
    ("name-and-path", fixed({"name": "digits", "path": "x.npz"}), "flat", {}, "dataset",
     "exactly one of 'name'", False),
    ("builtin-with-label", fixed({"name": "digits", "label": "y"}), "flat", {},
     "dataset.label", "applies only to a file", False),
    ("missing-file", fixed({"path": "/no/such/data.npz"}), "flat", {}, "dataset.path",
     "file not found: /no/such/data.npz", False),
    ("path-too-long", fixed({"path": "d" * 5000 + ".npz"}), "flat", {}, "dataset.path",
     "cannot be a file: File name too long", False),
    ("bad-suffix", touch("data.txt"), "flat", {}, "dataset.path",
     "unsupported file type '.txt'", False),
    ("missing-npz-key", npz_case(y_test=None), "flat", {}, "y_test",
     "missing key; the file has keys ['x_test', 'x_train', 'y_train']", True),
    ("npz-length-mismatch", npz_case(y_train=np.zeros(59)), "flat", {}, "y_train",
     "has 59 labels but x_train has 60 rows", True),
    ("npz-non-finite", npz_case(x_train=BAD_X), "flat", {}, "x_train", "non-finite", True),
    ("npz-text-features", npz_case(x_test=np.full((15, 4), "a")), "flat", {}, "x_test",
     "must be numeric", True),
    ("npz-test-shape", npz_case(x_test=np.ones((15, 5))), "flat", {}, "x_test",
     "examples have shape (5,), but x_train's have (4,)", True),
    ("npz-one-class", npz_case(labels=(7,)), "flat", {}, "y_train",
     "has 1 class(es) ['7']; classification needs at least 2", True),
    ("npz-object-array", npz_case(y_train=np.array([1, "a"] * 30, dtype=object)), "flat", {},
     "", "holds object (pickled) arrays", True),
    ("npz-unreadable", lambda p: touch("bad.npz")(p), "flat", {}, "", "cannot read as .npz",
     True),
    ("npz-with-label", lambda p: {**npz_case()(p), "label": "y"}, "flat", {},
     "dataset.label", "not used with .npz files", False),
    ("missing-label-column", table_case(make_table(), label="class"), "flat", {},
     "dataset.label", "no column 'class' in", False),
    ("label-required", table_case(make_table()), "flat", {}, "dataset.label",
     "required for csv/parquet", False),
    ("table-nan", table_case(nan_table(), label="target"), "flat", {}, "f2",
     "non-finite or missing values", True),
    ("table-text-feature", table_case(text_feature_table(), label="target"), "flat", {},
     "f1", "feature column is not numeric", True),
    ("test-file-missing-column",
     table_case(make_table(), make_table().drop(columns="f2"), label="target"), "flat", {},
     "f2", "column missing (it is in train.csv)", True),
    ("test-path-and-fraction",
     table_case(make_table(), make_table(), label="target", test_fraction=0.3), "flat", {},
     "dataset.test_fraction", "cannot be combined with test_path", False),
    ("test-fraction-range", table_case(make_table(), label="target", test_fraction=1.0),
     "flat", {}, "dataset.test_fraction", "must be a number in (0, 1)", False),
    ("mnist1d-as-image", fixed("mnist1d"), "image", {}, "dataset",
     "mnist1d cannot be viewed as image input (it offers: flat (40,), sequence (40, 1))",
     False),
    ("image-npz-as-flat", npz_case((4, 4, 1)), "flat", {}, "dataset",
     "cannot be viewed as flat input (it offers: image (4, 4, 1))", False),
    ("sequence-npz-as-image", npz_case((4, 4)), "image", {}, "dataset",
     "it offers: sequence (4, 4)", False),
    ("val-fraction-zero", fixed("synthetic"), "flat", {"val_fraction": 0.0},
     "validation_fraction", "must be a number in (0, 1), got 0.0", False),
    ("val-fraction-one", fixed("synthetic"), "flat", {"val_fraction": 1},
     "validation_fraction", "must be a number in (0, 1), got 1", False),
    ("val-fraction-tiny", fixed("synthetic"), "flat", {"val_fraction": 1e-4},
     "validation_fraction", "leaves no validation examples", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("build", "kind", "kwargs", "field", "problem", "in_data_file"),
    [case[1:] for case in ERRORS],
    ids=[case[0] for case in ERRORS],
)
def test_errors(tmp_path, build, kind, kwargs, field, problem, in_data_file):
    spec = build(tmp_path)
    with pytest.raises(SpecError) as caught:
        load_dataset(spec, kind=kind, source="exp.yaml", **kwargs)
    err = caught.value
    assert err.field == field
    assert problem in err.problem
    if in_data_file:
        assert Path(err.source).parent == tmp_path
    else:
        assert err.source == "exp.yaml"


def test_unknown_kind_is_a_caller_bug():
    with pytest.raises(ValueError, match="unknown kind 'video'"):
        load_dataset("digits", kind="video")


def test_repr_is_short():
    data = load_dataset("synthetic", kind="flat")
    assert isinstance(data, Dataset)
    assert repr(data) == (
        "Dataset(name='synthetic', input_shape=(16,), num_classes=4, train=480, val=120, test=200)"
    )
