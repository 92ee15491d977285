"""The results store opens in optuna-dashboard as it is."""

from __future__ import annotations

import io
import json
import wsgiref.util

import optuna_dashboard

from nas.search import load_experiment, run_search

from ..helpers import write_experiment


def _get(app, path: str) -> tuple[str, dict]:
    environ: dict = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "after=0",
        "wsgi.input": io.BytesIO(),
    }
    wsgiref.util.setup_testing_defaults(environ)
    status: list[str] = []
    body = b"".join(app(environ, lambda s, headers, exc=None: status.append(s)))
    return status[0], json.loads(body)


def test_dashboard_serves_a_searched_study(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=2))
    run_search(exp)
    app = optuna_dashboard.wsgi(exp.storage)
    status, studies = _get(app, "/api/studies")
    assert status.startswith("200")
    [summary] = studies["study_summaries"]
    assert summary["study_name"] == exp.study
    status, detail = _get(app, f"/api/studies/{summary['study_id']}")
    assert status.startswith("200")
    trials = detail["trials"]
    assert len(trials) == 2
    attrs = {a["key"]: a["value"] for a in trials[0]["user_attrs"]}
    assert {"architecture", "val_accuracy", "n_params", "compile_seconds"} <= set(attrs)
    assert trials[0]["intermediate_values"]  # per-epoch validation curve for the charts
    assert detail["objective_names"] == ["val_accuracy"]  # the axis labels
