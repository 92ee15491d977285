"""``import nas``: a documented public face (``__all__``), cheap to import, nothing leaked."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import nas
import nas.search  # binds nas.search, and through it nas.yamlio, nas.checks, ...


def test_dir_lists_exactly_the_public_names():
    public = [name for name in dir(nas) if not name.startswith("_")]
    assert public == sorted(nas.__all__)
    assert len(set(nas.__all__)) == len(nas.__all__)
    for leaked in ("Any", "annotations", "importlib", "typing", "yamlio", "checks"):
        assert leaked not in public


def test_every_public_name_resolves_and_has_a_docstring():
    for name in nas.__all__:
        value = getattr(nas, name)
        doc = inspect.getdoc(value)
        assert doc and doc.strip(), name
        if inspect.ismodule(value):
            assert value.__name__ == f"nas.{name}"
        else:
            assert callable(value) and value.__name__ == name


def test_the_package_docstring_names_every_public_name():
    doc = nas.__doc__
    for name in nas.__all__:
        assert f"`{name}`" in doc or f"nas.{name}`" in doc, name


def test_unknown_names_raise_attribute_error():
    try:
        nas.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("nas.no_such_thing resolved")


SCRIPT = """
import json, sys
import nas
heavy = sorted(m for m in ("pandas", "optuna", "jax", "flax") if m in sys.modules)
public = [n for n in dir(nas) if not n.startswith("_")]
before = sorted(n for n in vars(nas) if not n.startswith("_"))
namespace = {}
exec("from nas import *", namespace)
star = sorted(n for n in namespace if not n.startswith("_"))
print(json.dumps({"heavy": heavy, "public": public, "before": before, "star": star}))
"""


def test_a_fresh_import_is_cheap_and_star_import_gives_the_public_names():
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=True
    )
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["heavy"] == []
    assert found["public"] == sorted(nas.__all__)
    assert found["before"] == []  # nothing bound before first use: no Any, no annotations
    assert found["star"] == sorted(nas.__all__)


def test_reading_results_loads_no_plotting_library():
    # The CLI's tables and notebooks' frames come from nas.results; matplotlib (slow to
    # import, and it writes a font cache) loads only when a plot or report is drawn.
    script = "import sys, nas.results, nas.cli.console; print('matplotlib' in sys.modules)"
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert run.stdout.split()[-1] == "False"


def test_searching_loads_neither_scikit_learn_nor_pandas_until_results_are_read():
    # A search's start-up is part of what a user waits for: Optuna's importance module
    # (scikit-learn) and pandas (user tables) load only when something asks for them.
    script = (
        "import sys, nas.search, nas.store, nas.data, nas.training, nas.execution, nas.cli.main;"
        "from nas.data import load_dataset; load_dataset('digits', kind='flat');"
        "print(sorted(m for m in ('sklearn', 'pandas') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    assert run.stdout.splitlines()[-1] == "[]"
