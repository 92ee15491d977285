"""Property-based fuzzing of everything that reads a user's files or a store's values.

Hypothesis writes space and experiment documents (valid ones and broken ones: wrong types
and values, unknown keys, nesting, aliases, billion-laughs bombs, huge lists and numbers,
damaged text) and data files (.npz and .csv with bad shapes, NaNs, odd dtypes and labels),
and stored architectures. For each, reading it either succeeds, and the result keeps its
contract, or raises a SpecError/UserError (ArchitectureError for a stored architecture);
never any other exception. Each example must finish within the deadline and allocate at
most MAX_PEAK bytes (tracemalloc), and a search of a file that fails writes no store.

A short profile runs in the suite; ``NAS_FUZZ_EXAMPLES=2000`` runs that many examples per
test (the end-to-end search test a twentieth of them).
"""

from __future__ import annotations

import contextlib
import resource
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nas.cli import main
from nas.data import load_dataset
from nas.errors import UserError
from nas.model import Architecture, ArchitectureError, describe
from nas.search import load_experiment
from nas.space import RandomSuggest, Space, load_space
from tests.fuzz_files import SPACE, csv_files, experiment_texts, npz_files, write_data
from tests.fuzz_values import EXAMPLES, shapes, space_texts, stored_architectures

# Per example; generous because the machines running the suite are shared, and a huge
# document still has to be parsed (pure-Python YAML reads about 20k values a second there).
DEADLINE = timedelta(seconds=60)
MAX_PEAK = 512 * 2**20

settings.register_profile(
    "fuzz",
    max_examples=EXAMPLES or 40,
    deadline=DEADLINE,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
FUZZ = settings.get_profile("fuzz")
# Hypothesis warns when it prints a huge generated document; that is the point of some.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)


def _address_space() -> int | None:
    """This process' mapped bytes (Linux), or None where that cannot be read."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    kib = [line.split()[1] for line in text.splitlines() if line.startswith("VmSize:")]
    return int(kib[0]) * 1024 if kib else None


@contextlib.contextmanager
def bounded_memory() -> Iterator[None]:
    """Fail where the block allocates more than MAX_PEAK bytes at its peak (Python objects
    and NumPy buffers, which both report to tracemalloc). An address-space limit a little
    above that turns a runaway allocation into a MemoryError in this test rather than a
    machine out of memory."""
    size = _address_space()
    previous = resource.getrlimit(resource.RLIMIT_AS)
    if size is not None:
        limit = size + 4 * MAX_PEAK
        if previous[1] == resource.RLIM_INFINITY or limit < previous[1]:
            resource.setrlimit(resource.RLIMIT_AS, (limit, previous[1]))
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        resource.setrlimit(resource.RLIMIT_AS, previous)
    assert peak < MAX_PEAK, f"peak allocation {peak / 2**20:.0f} MiB"


# --- spaces ------------------------------------------------------------------------------


@FUZZ
@given(text=space_texts(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_space_files(text: str, seed: int, data: st.DataObject, tmp_path: Path) -> None:
    path = tmp_path / "space.yaml"
    path.write_text(text, encoding="utf-8")
    with bounded_memory():
        try:
            space = load_space(path)
        except UserError as err:
            check_message(err, path)
            event("space refused")
            return
        event("space loaded")
        summary = space.describe()
        assert summary.layers[0] <= summary.layers[1]
        assert Space.from_dict(space.to_dict(), path) == space
        arch = space.sample(RandomSuggest(seed))
        # Every candidate a space draws reads back from the store.
        assert Architecture.from_json(arch.to_json()) == arch
        describe(arch)
        shape = data.draw(shapes(space.input_kind))
        try:
            space.check_input(shape)
        except UserError as err:
            check_message(err, path)


def check_message(err: UserError, path: Path | str) -> None:
    """One short paragraph that names the file."""
    text = str(err)
    assert text.startswith(str(path))
    assert len(text) < 1500, text[:300]
    assert "\x1b" not in text


# --- stored architectures ----------------------------------------------------------------


@FUZZ
@given(value=stored_architectures())
def test_stored_architectures(value: Any) -> None:
    with bounded_memory():
        try:
            arch = Architecture.from_json(value)
        except ArchitectureError as err:
            assert isinstance(err, ValueError) and len(str(err)) < 1500
            assert isinstance(err.in_trial("s", 0), UserError)
            return
        assert Architecture.from_json(arch.to_json()) == arch
        describe(arch)
        arch.signature_hash()


# --- data files --------------------------------------------------------------------------


@FUZZ
@given(
    data=st.data(),
    kind=st.sampled_from(("flat", "sequence", "image")),
    val_fraction=st.one_of(
        *[st.floats(0.05, 0.5)] * 4, st.floats(allow_nan=True), st.integers(0, 1)
    ),
)
def test_data_files(data: st.DataObject, kind: str, val_fraction: float, tmp_path: Path) -> None:
    spec = data.draw(st.one_of(npz_files(tmp_path), csv_files(tmp_path)))
    with bounded_memory():
        try:
            loaded = load_dataset(
                spec, kind=kind, val_fraction=val_fraction, source="exp.yaml", base_dir=tmp_path
            )
        except UserError as err:
            assert len(str(err)) < 1500
            event("data refused")
            return
    event("data loaded")
    k = loaded.num_classes
    assert k == len(loaded.class_names) >= 2
    for x, y in (
        (loaded.x_train, loaded.y_train),
        (loaded.x_val, loaded.y_val),
        (loaded.x_test, loaded.y_test),
    ):
        assert x.dtype == np.float32 and y.dtype == np.int32 and len(x) == len(y)
        assert np.isfinite(x).all() and ((y >= 0) & (y < k)).all()
    # Every test class was seen in training.
    assert set(loaded.y_test) <= set(loaded.y_train) | set(loaded.y_val)


# --- experiment files --------------------------------------------------------------------


@FUZZ
@given(text=experiment_texts())
def test_experiment_files(text: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("exp")
    (folder / "space.yaml").write_text(SPACE)
    write_data(folder)
    path = folder / "exp.yaml"
    path.write_text(text + f"storage: sqlite:///{folder / 'store.db'}\n")
    with bounded_memory():
        try:
            experiment = load_experiment(path)
            experiment.load_data()
            event("experiment loaded")
        except UserError as err:
            assert len(str(err)) < 1500, str(err)[:300]
            assert "\x1b" not in str(err)
            event("experiment refused")
    assert not (folder / "store.db").exists()


# The search end to end, through the command line: on bad input exit 2, one line, no store.
SEARCH_EXAMPLES = max(EXAMPLES // 20, 6)


# What keeps a valid document's search short and in this process: one trial of one epoch,
# no time limit, no Ray.
SHORT_SEARCH = {"trials": 1, "timeout": None, "training": {"epochs": 1}, "execution": None}


@settings(FUZZ, max_examples=SEARCH_EXAMPLES)
@given(text=experiment_texts(SHORT_SEARCH))
def test_search_command(
    text: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture
) -> None:
    folder = tmp_path_factory.mktemp("search")
    (folder / "space.yaml").write_text(SPACE)
    write_data(folder)
    path = folder / "exp.yaml"
    path.write_text(text + f"storage: sqlite:///{folder / 'store.db'}\n")
    capsys.readouterr()
    code = main(["search", str(path)])
    err = capsys.readouterr().err
    assert code in (0, 2)
    event(f"search exit {code}")
    if code == 2:
        assert err.startswith("error: ") and "Traceback" not in err
        assert not (folder / "store.db").exists()
    else:
        assert (folder / "store.db").exists()
