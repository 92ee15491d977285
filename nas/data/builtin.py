"""Built-in data sets: scikit-learn's digits, MNIST-1D, Gaussian blobs and shapes32 (generated
32x32 colour images, :mod:`nas.data.shapes32`), all made locally."""

from __future__ import annotations

import functools
import importlib.util
import random
from pathlib import Path

import numpy as np

from nas.data.raw import RawData, frozen, natural_views
from nas.data.shapes32 import shapes32_arrays
from nas.data.splits import DEFAULT_TEST_FRACTION, TEST_SEED, stratified_split

BUILTINS = ("digits", "mnist1d", "synthetic", "shapes32")


@functools.cache
def load_builtin(name: str) -> RawData:
    """Built-in data ``name`` (one of ``BUILTINS``) with read-only arrays, generated once per
    process (mnist1d and shapes32 take about a second each)."""
    makers = {
        "digits": _digits,
        "mnist1d": _mnist1d,
        "synthetic": _synthetic,
        "shapes32": _shapes32,
    }
    raw = makers[name]()
    for array in (raw.x_train, raw.y_train, raw.x_test, raw.y_test):
        frozen(array)
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


def _digits() -> RawData:
    """scikit-learn's 8x8 digits (1797 images, bundled with the package), scaled to [0, 1]."""
    data, target = digits_arrays()
    x = (data / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = target.astype(np.int32)
    keep, take = stratified_split(y, DEFAULT_TEST_FRACTION, TEST_SEED)
    return RawData(
        name="digits",
        x_train=x[keep],
        y_train=y[keep],
        x_test=x[take],
        y_test=y[take],
        # A sequence view reads the image row by row: 8 steps of 8 pixels.
        views={"flat": (64,), "sequence": (8, 8), "image": (8, 8, 1)},
        origin="digits",
    )


def _mnist1d() -> RawData:
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
    return RawData(
        name="mnist1d",
        x_train=np.asarray(data["x"], np.float32),
        y_train=np.asarray(data["y"], np.int32),
        x_test=np.asarray(data["x_test"], np.float32),
        y_test=np.asarray(data["y_test"], np.int32),
        views=natural_views((40,)),
        origin="mnist1d",
    )


def _synthetic(
    classes: int = 4, features: int = 16, train_per_class: int = 150, test_per_class: int = 50
) -> RawData:
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
    return RawData(
        name="synthetic",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        views=natural_views((features,)),
        origin="synthetic",
    )


def _shapes32() -> RawData:
    """10,000 generated 32x32x3 images of ten shape and texture classes: 8000 train / 2000
    test, balanced; also offered flat (3072 features)."""
    x_train, y_train, x_test, y_test = shapes32_arrays()
    return RawData(
        name="shapes32",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        views={"image": (32, 32, 3), "flat": (32 * 32 * 3,)},
        origin="shapes32",
    )
