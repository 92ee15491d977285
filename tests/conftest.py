"""Shared fixtures: small real data and a quiet Optuna."""

from __future__ import annotations

import os

import optuna
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Hermetic tests: no compiled programs from earlier runs (tests of the cache set their own).
os.environ["NAS_COMPILATION_CACHE"] = "off"
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="session")
def digits():
    """scikit-learn digits, flat view, fixed split."""
    from nas.data import load_dataset

    return load_dataset("digits", kind="flat", val_fraction=0.2, seed=0)


@pytest.fixture(scope="session")
def digits_image():
    """scikit-learn digits as 8x8x1 images, fixed split."""
    from nas.data import load_dataset

    return load_dataset("digits", kind="image", val_fraction=0.2, seed=0)


@pytest.fixture(scope="session")
def synthetic():
    from nas.data import load_dataset

    return load_dataset("synthetic", kind="flat", val_fraction=0.2, seed=0)
