"""Data files that look almost right: each is refused with a SpecError naming the file, the
key or column and the problem, never accepted silently or misreported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nas.data import load_dataset
from nas.errors import SpecError


def write_npz(path: Path, y_train: np.ndarray, y_test: np.ndarray, **arrays: np.ndarray) -> Path:
    rng = np.random.default_rng(0)
    values = {
        "x_train": rng.normal(size=(len(y_train), 3)),
        "y_train": y_train,
        "x_test": rng.normal(size=(len(y_test), 3)),
        "y_test": y_test,
        **arrays,
    }
    np.savez(path, **values)
    return path


def test_npz_class_only_in_test_labels_is_refused(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "d.npz", np.arange(30) % 2, np.array([0, 1, 7, 1]))
    with pytest.raises(SpecError) as info:
        load_dataset({"path": str(path)}, kind="flat")
    err = info.value
    assert (err.source, err.field) == (str(path), "y_test")
    assert err.problem.startswith("class '7' appears only in the test labels, never in training")


def test_table_class_only_in_the_test_file_is_refused(tmp_path: Path) -> None:
    train = pd.DataFrame({"f": np.arange(20.0), "y": ["a", "b"] * 10})
    test = pd.DataFrame({"f": [1.0, 2.0, 3.0], "y": ["a", "z", "b"]})
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    spec = {"path": "train.csv", "label": "y", "test_path": "test.csv"}
    with pytest.raises(SpecError) as info:
        load_dataset(spec, kind="flat", base_dir=tmp_path)
    err = info.value
    assert (err.source, err.field) == (str(tmp_path / "test.csv"), "y")
    assert "class 'z' appears only in the test labels" in err.problem


def test_test_labels_read_as_numbers_still_match_text_training_labels(tmp_path: Path) -> None:
    # The rule compares as encode_labels does: "3" in training is 3 in the test file.
    train = pd.DataFrame({"f": np.arange(20.0), "y": ["3", "x"] * 10})
    test = pd.DataFrame({"f": [1.0, 2.0], "y": [3, 3]})
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    spec = {"path": "train.csv", "label": "y", "test_path": "test.csv"}
    data = load_dataset(spec, kind="flat", base_dir=tmp_path)
    assert data.class_names == ("3", "x")


@pytest.mark.parametrize("which", ["train", "test"])
def test_header_only_csv_says_it_has_no_rows(tmp_path: Path, which: str) -> None:
    full = "f1,f2,y\n1.0,2.0,a\n3.0,4.0,b\n5.0,6.0,a\n7.0,8.0,b\n"
    (tmp_path / "train.csv").write_text("f1,f2,y\n" if which == "train" else full)
    (tmp_path / "test.csv").write_text("f1,f2,y\n" if which == "test" else full)
    spec = {"path": "train.csv", "label": "y", "test_path": "test.csv"}
    with pytest.raises(SpecError) as info:
        load_dataset(spec, kind="flat", base_dir=tmp_path)
    err = info.value
    assert (err.source, err.field) == (str(tmp_path / f"{which}.csv"), "")
    assert err.problem == "has no rows (only a header)"


@pytest.mark.parametrize("key", ["path", "test_path"])
def test_data_path_that_is_a_folder_says_so(tmp_path: Path, key: str) -> None:
    pd.DataFrame({"f": [1.0, 2.0], "y": [0, 1]}).to_csv(tmp_path / "file.csv", index=False)
    (tmp_path / "folder.csv").mkdir()
    names = {"path": "file.csv", "test_path": "file.csv", key: "folder.csv"}
    spec = {**names, "label": "y"}
    with pytest.raises(SpecError) as info:
        load_dataset(spec, kind="flat", base_dir=tmp_path, source="exp.yaml")
    err = info.value
    assert (err.source, err.field) == ("exp.yaml", f"dataset.{key}")
    assert err.problem.startswith("is a folder, not a file: ")


def test_complex_features_are_refused(tmp_path: Path) -> None:
    # Casting them to float32 would drop the imaginary part with only a warning.
    y = np.arange(20) % 2
    path = write_npz(tmp_path / "c.npz", y, y[:4], x_train=np.ones((20, 3), complex))
    with pytest.raises(SpecError) as info:
        load_dataset({"path": str(path)}, kind="flat")
    assert (info.value.field, info.value.problem) == (
        "x_train",
        "features must be numeric (bool, int or float), got dtype complex128",
    )


def test_long_column_names_are_shown_short(tmp_path: Path) -> None:
    name = "c" * 5000
    pd.DataFrame({name: ["x", "y"], "y": [0, 1]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(SpecError) as info:
        load_dataset({"path": str(tmp_path / "t.csv"), "label": "y"}, kind="flat")
    assert "feature column is not numeric" in info.value.problem
    assert len(str(info.value)) < len(str(tmp_path)) + 200


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_values_beyond_float32_are_reported_without_a_warning(tmp_path: Path, suffix: str) -> None:
    # Found by tests/test_fuzz.py: NumPy warned "overflow encountered in cast" (an error
    # under the suite's warning filter) before the check named the values.
    x = np.ones((20, 2))
    x[3, 1] = 1e39
    y = np.arange(20) % 2
    if suffix == ".npz":
        path = write_npz(tmp_path / "d.npz", y, y[:4], x_train=x)
        spec: dict = {"path": str(path)}
        expected = ("x_train", "non-finite values (NaN or inf, or beyond float32 range)")
    else:
        path = tmp_path / "d.csv"
        pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y}).to_csv(path, index=False)
        spec = {"path": str(path), "label": "y"}
        expected = ("b", "non-finite or missing values (in columns ['b'])")
    with pytest.raises(SpecError) as info:
        load_dataset(spec, kind="flat")
    assert (info.value.source, info.value.field, info.value.problem) == (str(path), *expected)
