"""Hypothesis strategies for tests/test_fuzz.py: data files (.npz archives and csv tables,
each plausible with up to two defects) and experiment documents."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from tests.fuzz_values import SCALARS, damaged, junk, to_yaml, wrapped

DTYPES = ("float64", "float32", "int64", "int8", "bool", "complex64", "<U3", "datetime64[s]")


@st.composite
def arrays(draw: st.DrawFn, labels: bool) -> np.ndarray:
    rank = draw(st.integers(0, 2) if labels else st.integers(0, 4))
    shape = tuple(draw(st.integers(0, 6)) for _ in range(rank))
    if draw(st.integers(0, 3)) > 0 and rank:
        shape = (draw(st.integers(0, 30)), *shape[1:])
    dtype = draw(st.sampled_from(DTYPES))
    size = math.prod(shape)
    if dtype == "<U3":
        values = np.array(
            draw(
                st.lists(st.sampled_from(["a", "b", "1", "", "nan"]), min_size=size, max_size=size)
            ),
            dtype=dtype,
        )
    elif dtype.startswith("datetime"):
        values = np.arange(size).astype(dtype)
    else:
        values = np.array(draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)))
        values = values.astype(dtype)
        if dtype.startswith("float") and size and draw(st.booleans()):
            # 1e39 fits a float64 file but not float32, the features' type once loaded.
            big = [1e39] if dtype == "float64" else []
            values[draw(st.integers(0, size - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf, *big])
            )
    return values.reshape(shape)


LABEL_FORMS = st.sampled_from(("int", "text", "float", "bool"))


def label_values(form: str, n: int, classes: int) -> np.ndarray:
    """``n`` labels of ``classes`` classes, as ints, text, floats or bools."""
    codes = np.arange(n) % max(classes, 1)
    if form == "text":
        return np.array([f"c{c}" for c in codes])
    if form == "float":
        return codes.astype(np.float64) / 2
    return codes.astype(bool) if form == "bool" and classes <= 2 else codes


NPZ_DEFECTS = (
    "none", "none", "array", "drop", "nan", "float32-range", "dtype", "rank", "rows",
    "test-class", "one-class", "label-nan", "label-shape", "test-shape", "extra", "bytes",
    "object",
)  # fmt: skip


@st.composite
def npz_files(draw: st.DrawFn, folder: Path) -> dict:
    """A plausible archive with up to two defects of NPZ_DEFECTS."""
    n, m = draw(st.integers(2, 40)), draw(st.integers(1, 12))
    feature = draw(st.sampled_from([(3,), (4, 2), (3, 3, 1), (1,)]))
    classes = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    form = draw(LABEL_FORMS)
    content: dict[str, Any] = {
        "x_train": rng.normal(size=(n, *feature)),
        "y_train": label_values(form, n, classes),
        "x_test": rng.normal(size=(m, *feature)),
        "y_test": label_values(form, m, classes),
    }
    raw: bytes | None = None
    for defect in draw(st.lists(st.sampled_from(NPZ_DEFECTS), max_size=2)):
        key = draw(st.sampled_from(["x_train", "y_train", "x_test", "y_test"]))
        x = "x_" + key[2:]
        if defect == "array":
            content[key] = draw(arrays(key.startswith("y")))
        elif defect == "drop":
            content.pop(key, None)
        elif (
            defect in ("nan", "float32-range")
            and x in content
            and content[x].size
            and content[x].dtype.kind in "biuf"
        ):
            value = np.nan if defect == "nan" else draw(st.sampled_from([1e39, -1e300, np.inf]))
            flat = np.array(content[x], dtype=np.float64)
            flat.reshape(-1)[draw(st.integers(0, max(flat.size - 1, 0)))] = value
            content[x] = flat
        elif defect == "dtype" and x in content:
            dtype = draw(st.sampled_from(["complex64", "int8", "bool", "<U3", "datetime64[s]"]))
            with contextlib.suppress(ValueError, TypeError):
                content[x] = content[x].astype(dtype)
        elif defect == "rank" and x in content:
            content[x] = (
                content[x].reshape(-1) if draw(st.booleans()) else content[x][..., None, None]
            )
        elif defect == "rows" and key in content:
            content[key] = content[key][: draw(st.integers(0, 3))]
        elif defect == "test-class" and "y_test" in content and content["y_test"].ndim == 1:
            y = content["y_test"]
            content["y_test"] = np.append(y[:-1], 99 if y.dtype.kind in "biuf" else "zz")
        elif defect == "one-class" and "y_train" in content:
            content["y_train"] = np.zeros_like(content["y_train"])
        elif (
            defect == "label-nan"
            and key.startswith("y")
            and key in content
            and content[key].ndim
            and content[key].size
        ):
            y = (
                content[key].astype(np.float64)
                if content[key].dtype.kind != "U"
                else content[key].astype(object)
            )
            y[0] = np.nan
            content[key] = y
        elif defect == "label-shape" and key.startswith("y") and key in content:
            content[key] = content[key][:, None]
        elif defect == "test-shape" and "x_test" in content:
            content["x_test"] = rng.normal(size=(m, 5))
        elif defect == "extra":
            content[draw(st.text(min_size=1, max_size=5))] = np.ones(3)
        elif defect == "object":
            content[key] = np.array([1, "a"] * 3, dtype=object)
        elif defect == "bytes":
            raw = draw(st.binary(max_size=60))
    path = folder / "data.npz"
    if raw is not None:
        path.write_bytes(raw)
    else:
        try:
            np.savez(path, **content)
        except (ValueError, OSError):
            np.savez(path, x=np.ones(2))  # a key numpy cannot write
    return {"path": str(path)}


CSV_DEFECTS = (
    "none", "none", "header-only", "nan", "text", "float32-range", "no-label", "label-nan",
    "test-class", "test-column", "empty", "damaged", "unicode-names", "one-class",
)  # fmt: skip


@st.composite
def csv_files(draw: st.DrawFn, folder: Path) -> dict:
    """A plausible train (and maybe test) table with up to two defects of CSV_DEFECTS."""
    n, m = draw(st.integers(2, 40)), draw(st.integers(1, 12))
    classes = draw(st.integers(2, 4))
    rng = np.random.default_rng(draw(st.integers(0, 9)))
    train = pd.DataFrame({"f1": rng.normal(size=n), "f2": rng.integers(0, 5, size=n)})
    form = draw(LABEL_FORMS)
    train["y"] = label_values(form, n, classes)
    test = pd.DataFrame({"f1": rng.normal(size=m), "f2": rng.integers(0, 5, size=m)})
    test["y"] = label_values(form, m, classes)
    spec: dict[str, Any] = {"path": "train.csv", "label": "y"}
    if draw(st.booleans()):
        spec["test_path"] = "test.csv"
    elif draw(st.booleans()):
        spec["test_fraction"] = draw(st.one_of(st.floats(0.05, 0.9), SCALARS))
    texts: dict[str, str] = {}
    tables = {"train.csv": train, "test.csv": test}
    for defect in draw(st.lists(st.sampled_from(CSV_DEFECTS), max_size=2)):
        name = draw(st.sampled_from(sorted(tables)))
        table = tables[name].copy()
        first = table.index[0] if len(table) else None
        if defect == "header-only":
            table = table.iloc[:0]
        elif defect == "nan" and first is not None and "f1" in table:
            table.loc[first, "f1"] = np.nan
        elif defect == "text" and first is not None and "f2" in table:
            table["f2"] = table["f2"].astype(object)
            table.loc[first, "f2"] = draw(st.sampled_from(["x", "", "1,5"]))
        elif defect == "float32-range" and first is not None and "f1" in table:
            table.loc[first, "f1"] = draw(st.sampled_from([1e39, -1e300]))
        elif defect == "no-label":
            spec["label"] = draw(st.sampled_from(["target", "f1", ""]))
        elif defect == "label-nan" and first is not None:
            table["y"] = table["y"].astype(object)
            table.loc[first, "y"] = np.nan
        elif defect == "test-class" and first is not None:
            table["y"] = table["y"].astype(object)
            table.loc[first, "y"] = "zz"
        elif defect == "test-column":
            table = table.drop(columns=["f2"], errors="ignore")
        elif defect == "one-class" and first is not None:
            table["y"] = table["y"].iloc[0]
        elif defect == "unicode-names":
            table = table.rename(columns={"f1": draw(st.text(min_size=1, max_size=6))})
        elif defect in ("empty", "damaged"):
            texts[name] = defect
        tables[name] = table
    for name, table in tables.items():
        table.to_csv(folder / name, index=False)
        if texts.get(name) == "empty":
            (folder / name).write_text("")
        elif texts.get(name) == "damaged":
            (folder / name).write_text(draw(damaged((folder / name).read_text())))
    return spec


DATASETS = ("synthetic", {"path": "data.csv", "label": "y"}, {"path": "data.npz"})
SPACE = "name: s\ninput: flat\nlayers: [{type: dense, features: {choices: [4, 8]}}]\n"
EXPERIMENT_FIELDS = {
    "study": st.one_of(st.just("fuzz"), SCALARS),
    "space": st.one_of(st.just("space.yaml"), st.sampled_from(["missing.yaml", ".", ""]), SCALARS),
    "dataset": st.one_of(
        st.just("synthetic"),
        st.just({"path": "data.csv", "label": "y"}),
        st.just({"path": "data.npz"}),
        junk(),
    ),
    "validation_fraction": st.one_of(st.floats(0.1, 0.5), SCALARS),
    "training": st.one_of(
        st.fixed_dictionaries(
            {"epochs": st.one_of(st.just(1), SCALARS)},
            optional={"batch_size": SCALARS, "optimizer": SCALARS},
        ),
        junk(),
    ),
    "objectives": st.one_of(
        st.just({"val_accuracy": "maximize"}),
        st.dictionaries(
            st.sampled_from(["val_accuracy", "n_params", "loss"]),
            st.sampled_from(["maximize", "minimize", "up"]),
            max_size=2,
        ),
        junk(),
    ),
    "sampler": st.one_of(
        st.sampled_from(["random", "tpe", "grid", "nsga2", "cmaes", "qmc", "x"]),
        st.fixed_dictionaries(
            {"name": st.sampled_from(["random", "tpe", "x"])},
            optional={"n_startup_trials": SCALARS, "bogus": SCALARS},
        ),
        junk(),
    ),
    "pruner": st.one_of(st.sampled_from(["none", "median", "hyperband", "x"]), junk()),
    "trials": st.one_of(st.just(1), SCALARS),
    "timeout": SCALARS,
    "seed": st.one_of(st.integers(-1, 2**33), SCALARS),
    "execution": st.one_of(
        st.fixed_dictionaries(
            {},
            optional={
                "workers": SCALARS,
                "retries": SCALARS,
                "lookahead": SCALARS,
                "address": SCALARS,
                "cpus_per_trial": SCALARS,
                "trial_timeout": SCALARS,
            },
        ),
        junk(),
    ),
    "constraints": st.one_of(
        st.dictionaries(st.sampled_from(["max_params", "x"]), SCALARS), junk()
    ),
    "artifacts": st.one_of(
        st.fixed_dictionaries({}, optional={"keep_weights": SCALARS, "k": SCALARS}), junk()
    ),
    "unknown": SCALARS,
}
REQUIRED = ("study", "space", "dataset", "training", "objectives", "trials")


@st.composite
def experiment_texts(draw: st.DrawFn, fixed: dict[str, Any] | None = None) -> str:
    """An experiment file's text; ``fixed`` values replace the drawn ones (``None``: left
    out), applied before the text may be damaged."""
    document: dict[str, Any] = {}
    if draw(st.booleans()):
        # A valid file with a few fields changed or left out.
        document = {
            "study": "fuzz",
            "space": "space.yaml",
            "dataset": draw(st.sampled_from(DATASETS)),
            "training": {"epochs": 1},
            "objectives": {"val_accuracy": "maximize"},
            "sampler": "random",
            "trials": 1,
        }
        for key in draw(st.lists(st.sampled_from(sorted(EXPERIMENT_FIELDS)), max_size=2)):
            if draw(st.integers(0, 3)) == 0:
                document.pop(key, None)
            else:
                document[key] = draw(EXPERIMENT_FIELDS[key])
    else:
        for key, values in EXPERIMENT_FIELDS.items():
            keep = draw(st.integers(0, 9))
            if (key in REQUIRED and keep > 0) or keep == 0:
                document[key] = draw(values)
    for key, value in (fixed or {}).items():
        document.pop(key, None)
        if value is not None:
            document[key] = value
    text = to_yaml(draw(st.one_of(st.just(document), st.just(document), wrapped(document))))
    return draw(damaged(text)) if draw(st.integers(0, 6)) == 0 else text


def write_data(folder: Path) -> None:
    """The data files experiment documents may name: a tiny table and archive."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"f1": rng.normal(size=40), "f2": rng.normal(size=40)})
    table["y"] = np.arange(40) % 2
    table.to_csv(folder / "data.csv", index=False)
    np.savez(
        folder / "data.npz",
        x_train=rng.normal(size=(40, 3)),
        y_train=np.arange(40) % 2,
        x_test=rng.normal(size=(10, 3)),
        y_test=np.arange(10) % 3,  # class 2 only in the test labels
    )
