"""The toolkit against hand-written Flax loops on every shipped workload, beside the machine's peak.

Five workloads, one per shipped experiment file: digits MLP (``digits_mlp.yaml``), digits
2-D CNN (``digits_cnn.yaml``), MNIST-1D 1-D CNN (``mnist1d_cnn.yaml``), MNIST-1D GRU/LSTM
(``mnist1d_rnn.yaml``) and residual CNNs on the generated 32x32x3 ``shapes32`` images
(``shapes32_cnn.yaml``). For each:

- **peaks**: a 1024x1024 float32 matmul, a 64-channel kernel-7 1-D convolution and a
  64-channel 3x3 2-D convolution (forward and backward), best of repeated calls, measured
  in a child process at the start of the workload, so every row says its fraction of the
  limit of the moment;
- **fixed rows**: a few candidates of the workload's space (listed in ``WORKLOADS``) trained
  on the experiment's data with its epochs, by the toolkit (``nas.training.Trainer``, as a
  search trains) and by a plain loop with a per-step ``jax.jit`` (``plain_loop.train_one``,
  what a user writes by hand), each run in a fresh process, toolkit and plain alternating
  (ABAB) so the machine's noise hits both alike. Seconds are the whole training call
  (compilation, initialisation and per-epoch validation included); GFLOP/s count 3x the
  forward FLOPs of :func:`nas.model.model_stats` per training example over the training
  steps' own seconds;
- **search row**: the experiment run from the shell as a user runs it (``python -m nas.cli
  search``, whole process, start to exit) on a copy of the file with the pruner off, and the
  hand-written Optuna + Flax loop (``plain_loop.py``: TPE, the same space and seed, model
  built and jitted per trial, eager initialisation and evaluation) as a whole process too.

Every run starts cold: the toolkit's ``NAS_COMPILATION_CACHE`` points at a fresh, empty
folder per process, and the plain loop has no persistent cache (JAX's default). The targets of
the issue (fixed rows no slower than the plain loop, conv rows at half the conv peak, the
MNIST-1D CNN search 1.5x the hand loop at equal accuracy, the digits MLP search 3x from the
shell) are evaluated per row. Results are merged into ``results/workloads.json`` (+ ``.md``);
the ``experiments`` entries there are what the experiment files' ``# Measured`` header lines
quote (``--write-headers`` rewrites them; ``tests/test_experiments.py`` checks them).

    python experiments/benchmarks/workloads.py                   # the full suite
    python experiments/benchmarks/workloads.py --only mnist1d_cnn --skip-search
    python experiments/benchmarks/workloads.py --quick           # does it run? writes nothing
    python experiments/benchmarks/workloads.py --write-headers   # headers from the results

``--only`` takes one or more workload names; ``--skip-search`` / ``--skip-fixed`` leave out
one kind of row (a partial run keeps the other rows already in the results file);
``--repeats N`` runs each fixed row N times per trainer (medians); ``--out DIR`` writes the
results elsewhere (with ``--quick``, the only way it writes anything).

Time, measured on a 2-core CPU shared with other work (load average 8-12, so several times
slower than idle; the results file's ``seconds`` and ``load_average_at_start`` per workload
say how long each took and under what load): ``--quick`` 17 minutes; the full digits_mlp
workload 8 minutes, its ``nas search`` 79 s against 25 s on an idle machine. Scaled by that
factor of about 3, the full suite takes about 30-40 minutes idle, most of it the search rows
of mnist1d_rnn and shapes32_cnn (the hand loop's eager initialisation and evaluation cost it
10-20 s a trial there).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from workload_set import WORKLOADS, Workload

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
EXPERIMENTS = ROOT / "experiments"
SEARCH_TRIALS = 20
HEADER_START = "# Measured by workloads.py"
HEADER = (
    HEADER_START + " ({cores}-core CPU, cold compilation cache, pruner off): {wall:.0f} s "
    "for {trials} trials from the shell; best val_accuracy {val:.3f} ({test})"
)
# Shipped experiments with no hand-written counterpart (a cell space; a table lookup): the run
# their header quotes is measured from the shell alone, as shipped but for the pruner.
SHELL_ONLY = ("digits_cells.yaml", "nb201_cifar10.yaml")


def cold_env(folder: Path) -> dict[str, str]:
    """The environment of a child: this checkout first on the path and an empty compilation
    cache folder of its own for the toolkit; JAX's own persistent cache stays off, as in a
    loop written by hand (so the plain loop compiles everything, cold)."""
    cache = Path(tempfile.mkdtemp(prefix="xla-", dir=folder))
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    return {**env, "PYTHONPATH": path, "NAS_COMPILATION_CACHE": str(cache)}


def child(script: str, args: list[str], folder: Path) -> dict:
    """Run ``script`` (beside this file) in a fresh, cold process; its last argument is the
    JSON file it writes."""
    out = folder / f"out-{time.monotonic_ns()}.json"
    command = [sys.executable, str(HERE / script), *args, str(out)]
    subprocess.run(command, check=True, env=cold_env(folder))
    return json.loads(out.read_text())


def measure_peaks(folder: Path, seconds: float) -> dict[str, float]:
    """GFLOP/s of the matmul and the two convolutions (``peaks.py``)."""
    return child("peaks.py", [str(seconds)], folder)


def fixed_rows(
    workload: Workload, candidates: dict[str, dict], epochs: int, repeats: int, folder: Path
) -> list[dict]:
    """Each candidate trained by the toolkit and by the plain loop, alternating, ``repeats``
    times each; seconds are medians over the repeats."""
    path = str(EXPERIMENTS / workload.experiment)
    rows = []
    for name, params in candidates.items():
        runs: dict[str, list[dict]] = {"toolkit": [], "plain": []}
        for _ in range(repeats):
            for which in runs:
                args = [which, path, json.dumps(params), str(epochs)]
                runs[which].append(child("train_fixed.py", args, folder))
        row = {"candidate": name, **{k: runs["toolkit"][0][k] for k in ("label", "n_params")}}
        row.update(forward_flops=runs["toolkit"][0]["forward_flops"], epochs=epochs)
        for which, results in runs.items():
            flops = results[0]["train_flops"]
            train = statistics.median(r["train_seconds"] for r in results)
            row[which] = {
                "seconds": statistics.median(r["seconds"] for r in results),
                "compile_seconds": statistics.median(r["compile_seconds"] for r in results),
                "train_seconds": train,
                "step_gflops": flops / train / 1e9,
                "val_accuracy": results[-1]["val_accuracy"],
                "runs": results,
            }
        row["ratio"] = row["plain"]["seconds"] / row["toolkit"]["seconds"]
        print(
            f"  fixed {name}: toolkit {row['toolkit']['seconds']:.1f} s, plain "
            f"{row['plain']['seconds']:.1f} s, ratio {row['ratio']:.2f}",
            flush=True,
        )
        rows.append(row)
    return rows


def search_copy(workload: Workload, folder: Path, epochs: int | None) -> tuple[Path, dict]:
    """The experiment file as shipped but with the pruner off (and ``epochs`` when given),
    its space named by absolute path, written into ``folder``."""
    source = EXPERIMENTS / workload.experiment
    spec = yaml.safe_load(source.read_text())
    spec["space"] = str((source.parent / spec["space"]).resolve())
    spec["pruner"] = "none"
    if epochs is not None and "training" in spec:  # a table search trains nothing
        spec["training"]["epochs"] = epochs
    copy = folder / workload.experiment
    copy.write_text(yaml.safe_dump(spec, sort_keys=False))
    return copy, spec


def shell_seconds(command: list[str], folder: Path, log: Path) -> float:
    """Wall seconds of ``command`` as one process from start to exit, output to ``log``."""
    with log.open("w") as sink:
        start = time.perf_counter()
        subprocess.run(
            command,
            cwd=folder,
            env=cold_env(folder),
            stdout=sink,
            stderr=subprocess.STDOUT,
            check=True,
        )
        return time.perf_counter() - start


def shell_search(copy: Path, spec: dict, trials: int, folder: Path) -> dict:
    """``nas search`` of the experiment file ``copy`` from the shell: wall and in-loop
    seconds, trials, and the best trial's validation and test accuracy."""
    from nas.results import load_trials

    storage = f"sqlite:///{folder / 'nas.db'}"
    command = [sys.executable, "-m", "nas.cli", "search", str(copy), "--storage", storage]
    wall = shell_seconds([*command, "--trials", str(trials)], folder, folder / "search.log")
    frame = load_trials(storage, spec["study"])
    done = frame[frame["state"] == "COMPLETE"]
    # Of the trials tied at the best validation accuracy, one the search tested (with several
    # objectives only the Pareto front is tested, and a tie may lie behind it).
    top = done[done["val_accuracy"] == done["val_accuracy"].max()]
    tested = top[top["test_accuracy"].notna()] if "test_accuracy" in top else top.iloc[:0]
    best = (tested if len(tested) else top).iloc[0]
    in_loop = (done["datetime_complete"].max() - done["datetime_start"].min()).total_seconds()
    toolkit = {
        "wall_seconds": wall,
        "in_loop_seconds": in_loop,
        "trials": len(done),
        "seconds_per_trial": wall / len(done),
        "in_loop_seconds_per_trial": in_loop / len(done),
        "best_val_accuracy": float(best["val_accuracy"]),
        "test_accuracy": float(best["test_accuracy"]) if len(tested) else None,
        "best_arch": best["arch"],
    }
    return toolkit


def shell_only_entry(name: str, quick: bool, machine: dict) -> dict:
    """The results entry of a :data:`SHELL_ONLY` experiment, measured now."""
    print(f"{name} (from the shell alone)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        copy, spec = search_copy(Workload(name, "matmul"), folder, 1 if quick else None)
        toolkit = shell_search(copy, spec, 2 if quick else spec["trials"], folder)
    print(f"  search: {toolkit['wall_seconds']:.1f} s ({toolkit['best_val_accuracy']:.4f})")
    return experiment_entry(toolkit, machine)


def experiment_entry(toolkit: dict, machine: dict) -> dict:
    """What an experiment file's header quotes, from a ``nas search`` run's figures."""
    test = toolkit["test_accuracy"]
    return {
        "wall_seconds": round(toolkit["wall_seconds"]),
        "trials": toolkit["trials"],
        "best_val_accuracy": round(toolkit["best_val_accuracy"], 3),
        "test_accuracy": None if test is None else round(test, 3),
        "cores": machine["cores"],
        "date": machine["date"],
    }


def search_row(workload: Workload, trials: int, epochs: int | None, folder: Path) -> dict:
    """``nas search`` of the experiment, then the hand-written loop, both from the shell."""
    copy, spec = search_copy(workload, folder, epochs)
    toolkit = shell_search(copy, spec, trials, folder)
    wall, in_loop = toolkit["wall_seconds"], toolkit["in_loop_seconds"]
    dataset = spec["dataset"] if isinstance(spec["dataset"], str) else spec["dataset"]["name"]
    out = folder / "plain.json"
    plain_command = [
        sys.executable, str(HERE / "plain_loop.py"), "--space", spec["space"],
        "--dataset", dataset, "--val-fraction", str(spec.get("validation_fraction", 0.2)),
        "--trials", str(trials), "--epochs", str(spec["training"]["epochs"]),
        "--seed", str(spec.get("seed", 0)), "--out", str(out),
    ]  # fmt: skip
    plain_wall = shell_seconds(plain_command, folder, folder / "plain.log")
    result = json.loads(out.read_text())
    plain = {
        "wall_seconds": plain_wall,
        "in_loop_seconds": result["total_seconds"],
        "trials": len(result["trials"]),
        "seconds_per_trial": plain_wall / len(result["trials"]),
        "in_loop_seconds_per_trial": result["total_seconds"] / len(result["trials"]),
        "best_val_accuracy": result["best_val_accuracy"],
    }
    row = {
        "experiment": workload.experiment,
        "epochs": spec["training"]["epochs"],
        "toolkit": toolkit,
        "plain": plain,
        "ratio": plain_wall / wall,
        "in_loop_ratio": plain["in_loop_seconds"] / in_loop,
    }
    print(
        f"  search: toolkit {wall:.1f} s ({toolkit['best_val_accuracy']:.4f}), plain "
        f"{plain_wall:.1f} s ({plain['best_val_accuracy']:.4f}), ratio {row['ratio']:.2f}",
        flush=True,
    )
    return row


def targets(name: str, workload: Workload, result: dict) -> list[dict]:
    """The issue's targets that apply to this workload's rows, each with its verdict."""
    found = []

    def target(what: str, value: float, goal: float, passed: bool) -> None:
        found.append({"target": what, "value": value, "goal": goal, "passed": bool(passed)})

    for row in result.get("fixed", []):
        target(
            f"{row['candidate']}: plain s / toolkit s >= 0.9",
            row["ratio"],
            0.9,
            row["ratio"] >= 0.9,
        )
        if workload.conv:
            fraction = row["toolkit"]["step_gflops"] / row["peak_gflops"]
            target(
                f"{row['candidate']}: toolkit GFLOP/s >= half the {workload.peak} peak",
                fraction,
                0.5,
                fraction >= 0.5,
            )
    search = result.get("search")
    if search and name == "mnist1d_cnn":
        gap = search["plain"]["best_val_accuracy"] - search["toolkit"]["best_val_accuracy"]
        target(
            "search: hand loop s / nas search s >= 1.5 (from the shell)",
            search["ratio"],
            1.5,
            search["ratio"] >= 1.5,
        )
        target(
            "search: best val_accuracy, nas search minus hand loop >= -0.01",
            -gap,
            -0.01,
            round(gap, 6) <= 0.01,  # accuracies are multiples of 1/n: no float slack
        )
    if search and name == "digits_mlp":
        target(
            "search: hand loop s / nas search s >= 3 (from the shell)",
            search["ratio"],
            3.0,
            search["ratio"] >= 3.0,
        )
    return found


def run_workload(name: str, args: argparse.Namespace) -> dict:
    workload = WORKLOADS[name]
    experiment = yaml.safe_load((EXPERIMENTS / workload.experiment).read_text())
    epochs = 1 if args.quick else experiment["training"]["epochs"]
    candidates = dict(list(workload.candidates.items())[:1]) if args.quick else workload.candidates
    started, load = time.perf_counter(), os.getloadavg()[0]
    print(f"{name} ({workload.experiment})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        result: dict = {"load_average_at_start": load}
        result["peaks"] = measure_peaks(folder, 0.3 if args.quick else 2.0)
        print("  peaks GFLOP/s: " + ", ".join(f"{k} {v:.1f}" for k, v in result["peaks"].items()))
        if not args.skip_fixed:
            result["fixed"] = fixed_rows(workload, candidates, epochs, args.repeats, folder)
            for row in result["fixed"]:
                row["peak_gflops"] = result["peaks"][workload.peak]
        if not args.skip_search:
            trials = 2 if args.quick else SEARCH_TRIALS
            load = os.getloadavg()[0]
            result["search"] = search_row(workload, trials, 1 if args.quick else None, folder)
            result["search"]["load_average_at_start"] = load
    result["seconds"] = time.perf_counter() - started
    return result


def load_results(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {"workloads": {}, "experiments": {}}


def merge(report: dict, name: str, result: dict, machine: dict) -> None:
    """Put one workload's result into ``report``, keeping the rows of an earlier run that
    this one skipped (fixed or search), judge the targets again, and record the experiment
    entry its header quotes (only from a search row of the full size)."""
    entry = {**report["workloads"].get(name, {}), **result, **machine}
    entry["targets"] = targets(name, WORKLOADS[name], entry)
    report["workloads"][name] = entry
    search = result.get("search")
    if search and search["toolkit"]["trials"] == SEARCH_TRIALS:
        report["experiments"][search["experiment"]] = experiment_entry(search["toolkit"], machine)


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FALL SHORT"


def markdown(report: dict) -> str:
    lines = [
        "# Workloads: the toolkit against hand-written Flax loops, beside the machine's peak",
        "",
        "Produced by `python experiments/benchmarks/workloads.py`; every process starts with "
        "an empty compilation cache, toolkit and plain runs alternate. Seconds are whole "
        "training calls (fixed rows) or whole processes from the shell (search rows); GFLOP/s "
        "count 3x the forward FLOPs per training example over the training steps' seconds.",
        "",
        "## Fixed architectures",
        "",
        "| workload | candidate | MFLOP/ex | epochs | toolkit s | plain s | plain/toolkit "
        "| toolkit GFLOP/s | plain GFLOP/s | peak GFLOP/s | toolkit % of peak | val acc "
        "toolkit / plain |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, w in report["workloads"].items():
        peak_kind = WORKLOADS[name].peak
        for row in w.get("fixed", []):
            t, p, peak = row["toolkit"], row["plain"], row["peak_gflops"]
            lines.append(
                f"| {name} | {row['candidate']} | {row['forward_flops'] / 1e6:.2f} "
                f"| {row['epochs']} | {t['seconds']:.1f} | {p['seconds']:.1f} "
                f"| {row['ratio']:.2f} | {t['step_gflops']:.1f} | {p['step_gflops']:.1f} "
                f"| {peak:.0f} ({peak_kind}) | {t['step_gflops'] / peak:.0%} "
                f"| {t['val_accuracy']:.3f} / {p['val_accuracy']:.3f} |"
            )
    lines += [
        "",
        "## Searches (the file's sampler, pruner off, cold cache)",
        "",
        "`nas search` of the shipped file (pruner off) against the hand-written Optuna + Flax "
        "loop over the same space; wall seconds from the shell, start to exit, and the "
        "in-loop seconds (first trial's start to last trial's end); load: the machine's "
        "load average when the row started (2 cores: above 2, other work shared them).",
        "",
        "| workload | trials | epochs | nas search s | in loop s | s/trial | best val | test "
        "| hand loop s | in loop s | s/trial | best val | hand/toolkit (shell) | (in loop) "
        "| load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, w in report["workloads"].items():
        s = w.get("search")
        if not s:
            continue
        t, p = s["toolkit"], s["plain"]
        lines.append(
            f"| {name} | {t['trials']} | {s['epochs']} | {t['wall_seconds']:.1f} "
            f"| {t['in_loop_seconds']:.1f} "
            f"| {t['seconds_per_trial']:.2f} | {t['best_val_accuracy']:.4f} "
            f"| {t['test_accuracy'] or float('nan'):.4f} | {p['wall_seconds']:.1f} "
            f"| {p['in_loop_seconds']:.1f} | {p['seconds_per_trial']:.2f} "
            f"| {p['best_val_accuracy']:.4f} | {s['ratio']:.2f}x | {s['in_loop_ratio']:.2f}x "
            f"| {s.get('load_average_at_start', float('nan')):.1f} |"
        )
    lines += ["", "## Targets", "", "| workload | target | value | verdict |", "|---|---|---|---|"]
    for name, w in report["workloads"].items():
        for t in w["targets"]:
            lines.append(f"| {name} | {t['target']} | {t['value']:.2f} | {verdict(t['passed'])} |")
    judged = [t for w in report["workloads"].values() for t in w["targets"]]
    short = sum(not t["passed"] for t in judged)
    lines += [
        "",
        f"{len(judged) - short} of {len(judged)} targets pass; {short} fall short.",
        "",
        "## Runs",
        "",
        "Load average of the machine when each workload started (2 cores: above 2, other work "
        "shared them, and every figure is slower than on an idle machine).",
        "",
        "| workload | date | machine | load at start | suite s |",
        "|---|---|---|---|---|",
    ]
    for name, w in report["workloads"].items():
        lines.append(
            f"| {name} | {w['date']} | {w['machine']} | {w['load_average_at_start']:.2f} "
            f"| {w['seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def header_line(entry: dict) -> str:
    """The ``# Measured`` line of an experiment file from its results entry."""
    return HEADER.format(
        cores=entry["cores"],
        wall=entry["wall_seconds"],
        trials=entry["trials"],
        val=entry["best_val_accuracy"],
        test="no test split"
        if entry["test_accuracy"] is None
        else f"test {entry['test_accuracy']:.3f}",
    )


def write_headers(report: dict) -> list[str]:
    """Rewrite the ``# Measured`` line of every experiment file the results cover (placed
    after the ``#   nas search`` command line where a file has none); the files changed."""
    changed = []
    for name, entry in sorted(report["experiments"].items()):
        path = EXPERIMENTS / name
        lines = path.read_text().splitlines()
        line = header_line(entry)
        at = [i for i, text in enumerate(lines) if text.startswith(HEADER_START)]
        if at:
            lines[at[0]] = line
        else:
            command = lines.index(f"#   nas search experiments/{name}")
            lines[command + 1 : command + 1] = ["#", line]
        text = "\n".join(lines) + "\n"
        if text != path.read_text():
            path.write_text(text)
            changed.append(name)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", nargs="+", choices=[*WORKLOADS, *SHELL_ONLY], help="these workloads"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 candidate, 1 epoch, 2 search trials: checks that it runs; "
        "writes nothing unless --out is given",
    )
    parser.add_argument("--skip-search", action="store_true", help="fixed rows only")
    parser.add_argument("--skip-fixed", action="store_true", help="search rows only")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs of each fixed row per trainer (medians reported)",
    )
    parser.add_argument("--out", type=Path, help=f"results folder (default {RESULTS})")
    parser.add_argument(
        "--write-headers",
        action="store_true",
        help="rewrite the experiment files' '# Measured' lines from the "
        "results file, then exit (runs nothing)",
    )
    args = parser.parse_args()
    folder = args.out or RESULTS
    path = folder / "workloads.json"
    if args.write_headers:
        changed = write_headers(load_results(path))
        print("rewrote: " + (", ".join(changed) or "nothing"))
        return
    report = (
        load_results(path) if (args.out or not args.quick) else {"workloads": {}, "experiments": {}}
    )
    machine = {
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        "cores": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
        "quick": args.quick,
    }
    for name in [n for n in args.only or SHELL_ONLY if n in SHELL_ONLY]:
        entry = shell_only_entry(name, args.quick, machine)
        if not args.quick:
            report["experiments"][name] = entry
    for name in [n for n in args.only or WORKLOADS if n in WORKLOADS]:
        result = run_workload(name, args)
        merge(report, name, result, machine)
        for t in report["workloads"][name]["targets"]:
            print(f"  {verdict(t['passed'])}: {t['target']} ({t['value']:.2f})", flush=True)
        if args.out or not args.quick:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=1) + "\n")
            (folder / "workloads.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
