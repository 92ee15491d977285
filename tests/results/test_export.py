"""Export: generated code that equals the builder, and searched models that run without us.

The promise checked end to end: a trial of a real search, exported, runs in a Python process
where this toolkit cannot be imported, and gives the searched model's logits and test
accuracy.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from nas.cli import main
from nas.model import build_model
from nas.model.architecture import (
    ACTIVATIONS,
    Activation,
    Architecture,
    Cell,
    Conv,
    Dense,
    Dropout,
    GlobalPool,
    Norm,
    Pool,
    Recurrent,
)
from nas.results import ExportError, choose_trial, export_trial, load_trials
from nas.results.codegen import ACTIVATION_CODE, module_source
from nas.search import load_experiment, run_search
from nas.store import artifacts_dir, load_weights

from ..helpers import write_experiment
from ..studies import searched

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
ALLOWED_IMPORTS = {"jax", "flax", "numpy"}
# Runs in a separate interpreter: makes the toolkit unimportable, proves it, then runs each
# exported file on the test inputs and saves its logits.
CHECKER = """
import importlib.abc
import importlib.util
import sys

import numpy as np


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nas" or name.startswith("nas."):
            raise ModuleNotFoundError(f"blocked: {name}")
        return None


sys.meta_path.insert(0, Block())
try:
    import nas  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    raise SystemExit("the toolkit is importable here")

for stem in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(stem, f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    variables = module.load_variables(f"{stem}.msgpack")
    x = np.load(f"{stem}_x.npy")
    np.save(f"{stem}_logits.npy", np.asarray(module.predict(variables, x)))
    print(stem, "ok", sorted(m for m in sys.modules if m.split(".")[0] == "nas"))
"""

A = Architecture
CASES = {
    "mlp-residual-projections": (
        A(
            (Dense(16, "tanh", "batch", 0.2), Dense(8, "elu", "layer"), Dense(8, "sigmoid")),
            "residual",
        ),
        (12,),
    ),
    "mlp-dense-skips": (
        A((Dense(16, "silu"), Dense(8, "swish", "batch"), Dense(8, "leaky_relu")), "dense"),
        (12,),
    ),
    "mlp-activations": (
        A(tuple(Dense(6, act) for act in ACTIVATIONS), "none"),
        (6,),
    ),
    "cnn2d-dense-skips": (
        A(
            (
                Conv(8, norm="batch"),
                Conv(4, activation="gelu", dropout=0.2),
                Pool("avg"),
                Conv(4, kernel_size=1),
                Dense(16, norm="layer", dropout=0.1),
            ),
            "dense",
        ),
        (8, 8, 1),
    ),
    "cnn2d-residual-strides": (
        A((Conv(4), Conv(4, stride=2), Conv(6, padding="valid"), Norm("batch")), "residual"),
        (9, 9, 2),
    ),
    "cnn1d-pools-norms-dropout": (
        A(
            (
                Conv(8, kernel_size=5, stride=2, padding="valid", activation="identity"),
                Pool("avg", window=3, stride=1),
                Norm("layer"),
                Dropout(0.3),
                GlobalPool("max"),
                Dense(8),
            ),
            "dense",
        ),
        (20, 2),
    ),
    "rnn-bidirectional-residual": (
        A(
            (
                Recurrent(8, "lstm", bidirectional=True),
                Recurrent(16, "gru"),
                GlobalPool(),
                Dense(16, "relu"),
            ),
            "residual",
        ),
        (5, 3),
    ),
    "rnn-dense-skips-flatten": (
        A((Recurrent(4, "gru", bidirectional=True), Recurrent(4, "lstm"), Dense(8)), "dense"),
        (5, 3),
    ),
    "linear": (A(()), (5,)),
    # Every op on every kind of edge: channel-changing (pre-pool conv, skip projection),
    # strided (reduction), all-none nodes and cells, a node that only reads none edges.
    "cells-every-op": (
        A(
            (
                Conv(4, norm="batch", activation="identity"),
                Cell(6, ("conv3x3", "avgpool3x3", "skip", "conv1x1", "none", "avgpool3x3")),
                Cell(6, ("skip", "none", "avgpool3x3", "none", "conv1x1", "skip")),
                Cell(8, ("conv3x3", "skip", "conv3x3"), nodes=3, reduction=True),
                Cell(8, ("avgpool3x3", "conv1x1", "none"), nodes=3, reduction=True),
                Cell(8, ("none",) * 3, nodes=3),
                Cell(8, ("skip", "conv3x3", "none", "skip", "none", "none"), reduction=False),
                Norm("batch"),
                Activation("relu"),
                GlobalPool("avg"),
            )
        ),
        (8, 8, 3),
    ),
    "cells-changing-channels": (
        A(
            (
                Cell(5, ("skip", "avgpool3x3", "conv3x3"), nodes=3),
                Cell(3, ("none", "skip", "avgpool3x3"), nodes=3, reduction=True),
                Activation("tanh"),
                Dense(4),
            )
        ),
        (6, 6, 2),
    ),
}


def random_variables(model, input_shape, seed=0):
    """Finite variables of the model's tree (positive running variances)."""
    rng = np.random.default_rng(seed)
    x = jax.ShapeDtypeStruct((2, *input_shape), jnp.float32)
    shapes = jax.eval_shape(model.init, jax.random.key(0), x)

    def draw(path, leaf):
        if path[-1].key == "var":
            return rng.uniform(0.5, 2.0, leaf.shape).astype(np.float32)
        return (0.5 * rng.standard_normal(leaf.shape)).astype(np.float32)

    return jax.tree_util.tree_map_with_path(draw, shapes)


def import_file(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add(node.module.split(".")[0])
    return roots


def ruff_clean(*paths: Path) -> None:
    """ruff with the project's rule set and no project settings: lint and format."""
    rules = "E,F,W,I,B,UP,SIM,RUF"
    for args in (["check", "--isolated", "--select", rules], ["format", "--isolated", "--check"]):
        out = subprocess.run(
            [str(RUFF), *args, *map(str, paths)],
            capture_output=True,
            text=True,
            cwd=paths[0].parent,
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_every_activation_is_spelled_out():
    assert set(ACTIVATION_CODE) == set(ACTIVATIONS)


@pytest.mark.parametrize("case", list(CASES))
def test_generated_module_computes_what_the_builder_computes(case, tmp_path):
    arch, input_shape = CASES[case]
    path = tmp_path / f"{case.replace('-', '_')}.py"
    path.write_text(module_source(arch, input_shape, 7))
    module = import_file(path)
    model = build_model(arch, 7)
    variables = random_variables(model, input_shape)
    x = np.random.default_rng(1).standard_normal((3, *input_shape)).astype(np.float32)
    want = jax.jit(lambda v, x: model.apply(v, x, train=False))(variables, x)
    got = module.predict(variables, x)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    if case.startswith("cells"):
        # The same ops in the same order: not close, equal.
        np.testing.assert_array_equal(got, want)
    assert tuple(input_shape) == module.INPUT_SHAPE
    assert module.NUM_CLASSES == 7


def test_generated_code_reads_like_hand_written_code(tmp_path):
    paths = []
    for case, (arch, input_shape) in CASES.items():
        source = module_source(arch, input_shape, 7, notes=['A "quoted" \\ note.'])
        assert imported_roots(source) <= ALLOWED_IMPORTS
        for keyword in ("for ", "while ", "if ", "getattr", "json"):
            assert keyword not in source.split('"""', 2)[2].split("def load_variables")[0]
        path = tmp_path / f"{case.replace('-', '_')}.py"
        path.write_text(source)
        paths.append(path)
    ruff_clean(*paths)
    source = module_source(*CASES["cnn2d-dense-skips"], 10)
    assert 'x = nn.Conv(8, kernel_size=(3, 3), padding="SAME", name="layer0")(x)' in source
    assert "x = jnp.concatenate([inputs, x], axis=-1)" in source
    assert 'nn.BatchNorm(use_running_average=True, momentum=0.9, name="layer0_norm")' in source
    assert 'return nn.Dense(10, name="head")(x)' in source


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The best trial of each shared study exported into one folder, with test inputs."""
    folder = tmp_path_factory.mktemp("exports")
    out = {}
    for name in ("mlp", "cnn", "rnn", "cells"):
        study = searched(name, tmp_path_factory)
        done = export_trial(
            study.storage, study.study, folder / f"{name}_model.py", pick="accuracy"
        )
        data = load_experiment(study.experiment).load_data()
        np.save(folder / f"{name}_model_x.npy", data.x_test)
        out[name] = (study, done, data)
    return folder, out


def test_exported_models_run_without_the_toolkit_and_match_the_search(exports):
    folder, out = exports
    stems = [done.model.stem for _, done, _ in out.values()]
    (folder / "check.py").write_text(CHECKER)
    # -I: no user site, no PYTHON* variables, no script folder magic; cwd is not the repo.
    run = subprocess.run(
        [sys.executable, "-I", "check.py", *stems],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ok []") == len(stems)
    for name, (study, done, data) in out.items():
        frame = load_trials(study.storage, study.study).set_index("number")
        row = frame.loc[done.trial]
        arch = Architecture.from_json(row["architecture"])
        stored = load_weights(artifacts_dir(study.storage, study.study), row["weights"])
        model = build_model(arch, data.num_classes)
        apply = jax.jit(functools.partial(model.apply, train=False))
        want = np.asarray(apply(stored, data.x_test))
        got = np.load(folder / f"{done.model.stem}_logits.npy")
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0, err_msg=name)
        if name == "cells":
            np.testing.assert_array_equal(got, want)  # the same ops in the same order
        accuracy = float(np.mean(np.argmax(got, -1) == data.y_test))
        assert accuracy == pytest.approx(row["test_accuracy"], abs=1e-9), name


# Runs in a separate interpreter without the toolkit: the exported cnn on its test images,
# then on the same images without their channel axis, and on one image without a batch axis.
SHAPE_CHECKER = """
import importlib.abc
import importlib.util
import json
import sys

import numpy as np


class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nas" or name.startswith("nas."):
            raise ModuleNotFoundError(f"blocked: {name}")
        return None


sys.meta_path.insert(0, Block())
stem = sys.argv[1]
spec = importlib.util.spec_from_file_location(stem, f"{stem}.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
variables = module.load_variables(f"{stem}.msgpack")
x = np.load(f"{stem}_x.npy")
out = {"input_shape": list(module.INPUT_SHAPE), "logits": list(module.predict(variables, x).shape)}
for case, bad in (("no_channel", x[..., 0]), ("no_batch", x[0])):
    for name, call in (("predict", module.predict), ("apply", module.Net().apply)):
        try:
            call(variables, bad)
        except ValueError as err:
            out[f"{case}_{name}"] = [type(err).__name__, str(err)]
        else:
            out[f"{case}_{name}"] = None
print(json.dumps(out))
"""


def test_an_exported_model_names_the_shape_it_expects(exports):
    """Images without their channel axis fail with a ValueError that says the shape wanted
    (and the fix), where Flax would fail inside a layer on a parameter's shape; the right
    shape still works."""
    folder, out = exports
    _, done, data = out["cnn"]
    (folder / "shape_check.py").write_text(SHAPE_CHECKER)
    run = subprocess.run(
        [sys.executable, "-I", "shape_check.py", done.model.stem],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    found = json.loads(run.stdout.splitlines()[-1])
    assert found["input_shape"] == [8, 8, 1]
    assert found["logits"] == [len(data.x_test), data.num_classes]
    n = len(data.x_test)
    for call in ("predict", "apply"):
        kind, message = found[f"no_channel_{call}"]
        assert kind == "ValueError"
        assert message == (
            f"expected x of shape (batch, 8, 8, 1), got ({n}, 8, 8); "
            "add the channel axis: x[..., None]"
        )
        kind, message = found[f"no_batch_{call}"]
        assert kind == "ValueError"
        assert message == (
            "expected x of shape (batch, 8, 8, 1), got (8, 8, 1); "
            "for one example, add the batch axis: x[None]"
        )


def test_exported_file_states_its_provenance_and_passes_ruff(exports):
    _, out = exports
    for name, (study, done, _) in out.items():
        source = done.model.read_text()
        assert imported_roots(source) <= ALLOWED_IMPORTS
        row = load_trials(study.storage, study.study).set_index("number").loc[done.trial]
        doc = " ".join(ast.get_docstring(ast.parse(source)).split())
        assert f"Trial {done.trial} of study {name}" in doc
        assert f"Parameters: {row['n_params']:,}." in doc
        assert f"validation accuracy {row['val_accuracy']:.4f}" in doc
        assert f"test accuracy {row['test_accuracy']:.4f}" in doc
        assert done.weights == done.model.with_suffix(".msgpack")
        assert f'load_variables("{done.weights.name}")' in source
        # Inference-only variables: exactly the collections the module reads.
        weights = flax.serialization.msgpack_restore(done.weights.read_bytes())
        assert set(weights) <= {"params", "batch_stats"}
    ruff_clean(*(done.model for _, done, _ in out.values()))


def test_pick_chooses_from_the_pareto_front(tmp_path_factory):
    study = searched("cnn", tmp_path_factory)
    frame = load_trials(study.storage, study.study)
    front = frame[frame["pareto"]]
    assert len(front) >= 2, "the shared study should have a real trade-off"
    picks = {pick: choose_trial(frame, "best", pick) for pick in ("accuracy", "params", "knee")}
    assert picks["accuracy"] == front.loc[front["val_accuracy"].idxmax(), "number"]
    assert picks["params"] == front.loc[front["n_params"].idxmin(), "number"]
    assert picks["knee"] in set(front["number"])


def test_export_command_with_pick_and_weights_path(tmp_path_factory, tmp_path, capsys):
    study = searched("cnn", tmp_path_factory)
    model, weights = tmp_path / "small.py", tmp_path / "w" / "small.msgpack"
    argv = ["export", study.study, "--storage", study.storage, "--pick", "params"]
    assert main([*argv, "--output", str(model), "--weights", str(weights)]) == 0
    frame = load_trials(study.storage, study.study)
    number = choose_trial(frame, "best", "params")
    assert f"(trial {number})" in capsys.readouterr().out
    assert model.exists() and weights.exists()
    assert 'load_variables("small.msgpack")' in model.read_text()


def test_export_a_trial_by_number_and_the_errors(tmp_path_factory, tmp_path, capsys):
    study = searched("mlp", tmp_path_factory)
    frame = load_trials(study.storage, study.study)
    done = frame[frame["state"] == "COMPLETE"]
    other = int(done[~done["pareto"]]["number"].iloc[0])
    exported = export_trial(study.storage, study.study, tmp_path / "m.py", trial=other)
    assert exported.trial == other
    failed = int(frame[frame["state"] == "FAIL"]["number"].iloc[0])
    with pytest.raises(ExportError, match=f"trial {failed} of mlp is FAIL"):
        export_trial(study.storage, study.study, tmp_path / "f.py", trial=failed)
    with pytest.raises(ExportError, match="has no trial 999"):
        export_trial(study.storage, study.study, tmp_path / "f.py", trial=999)
    empty = tmp_path / "no-artifacts"
    with pytest.raises(ExportError, match=r"weights file trial_\d+\.msgpack of trial \d+ of mlp"):
        export_trial(study.storage, study.study, tmp_path / "f.py", artifacts=str(empty))
    argv = ["export", "mlp", "--storage", study.storage, "--output", str(tmp_path / "f.py")]
    assert main([*argv, "--trial", str(failed)]) == 2
    assert "is FAIL, not COMPLETE" in capsys.readouterr().err
    assert not (tmp_path / "f.py").exists()


def test_export_of_a_trial_whose_weights_were_dropped(tmp_path, capsys):
    path = write_experiment(
        tmp_path,
        trials=4,
        training="{epochs: 2}",
        objectives="{val_loss: minimize}",
        artifacts="{keep_weights: best_k, k: 1}",
    )
    run_search(load_experiment(path))
    storage = f"sqlite:///{tmp_path / 'store.db'}"
    frame = load_trials(storage, "t")
    done = frame[frame["state"] == "COMPLETE"]
    kept = done.loc[done["weights"].notna(), "number"].tolist()
    dropped = done.loc[done["weights"].isna(), "number"].tolist()
    assert len(kept) == 1 and len(dropped) == 3
    output = tmp_path / "m.py"
    argv = ["export", "t", "--storage", storage, "--output", str(output)]
    for number in dropped:
        assert main([*argv, "--trial", str(number)]) == 2
        err = capsys.readouterr().err
        assert f"the weights of trial {number} of t were not kept" in err
        assert "under the keep_weights policy best_k (k=1)" in err
        assert f"trials whose weights are kept: {kept}" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert not output.exists()
    assert main([*argv, "--trial", str(kept[0])]) == 0
    assert output.exists()


def empty_frame():
    """A study whose only trial failed."""
    frame = pd.DataFrame(
        {"number": [0], "state": ["FAIL"], "pareto": [False], "objective_val_accuracy": [np.nan]}
    )
    frame.attrs.update(study="s", objectives=[["val_accuracy", "maximize"]])
    return frame


def test_unknown_pick_or_trial_is_refused():
    with pytest.raises(ValueError, match="pick must be one of"):
        choose_trial(empty_frame(), "best", "fastest")
    with pytest.raises(ValueError, match="'best' or a trial number"):
        choose_trial(empty_frame(), "latest")
    with pytest.raises(ExportError, match="no complete trial"):
        choose_trial(empty_frame())


def test_importing_an_exported_file_runs_nothing():
    # Only definitions at the top level: no file read, no compilation on import.
    tree = ast.parse(module_source(*CASES["linear"], 3))
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "Import", "ImportFrom", "Assign", "ClassDef", "FunctionDef"}
    assert [n for n in tree.body if isinstance(n, ast.Expr)] == [tree.body[0]]  # docstring
