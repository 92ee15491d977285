"""A PostgreSQL password is never printed or written: the search header and end line, the
report page, the exported file's docstring and the error messages show the store through
``nas.urls.public_url``. A SQLite store carries no password, so the printing functions get a
postgresql:// URL directly, and the commands one on a closed loopback port; with
NAS_TEST_POSTGRES_URL set, a whole search, report and export run on a real server."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.engine import make_url

from nas.cli.console import ConsoleReporter
from nas.results import load_trials, rank
from nas.results.export import _provenance
from nas.results.report import _page
from nas.search import SearchSummary, load_experiment, run_search

from ..helpers import postgres_url, write_experiment

SECRET = "s3cret-pw"
# Port 1 on loopback: nothing listens there, so connecting fails at once.
CLOSED = f"postgresql://nas:{SECRET}@127.0.0.1:1/nas"
MASKED = "postgresql://nas:***@127.0.0.1:1/nas"


def nas(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nas.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_search_header_and_end_line_mask_the_password(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, storage=CLOSED))
    out = io.StringIO()
    reporter = ConsoleReporter(Console(file=out, width=200), live=False)
    reporter.start(exp, 0, 3, [])
    reporter.done(SearchSummary(exp.study, exp.storage, 0, 3, 0, False, 0.0))
    text = out.getvalue()
    assert f"study t · {MASKED}" in text and SECRET not in text


def test_report_page_and_export_docstring_mask_the_password(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, trials=1, training="{epochs: 1}"))
    run_search(exp)
    frame = load_trials(exp.storage, exp.study)
    page = _page(CLOSED, exp.study, frame, rank(frame), [])
    assert MASKED in page and SECRET not in page
    notes = "\n".join(_provenance(frame, frame.iloc[0], CLOSED, exp.study))
    assert MASKED in notes and SECRET not in notes


@pytest.mark.parametrize(
    "command",
    [
        ["trials", "t", "--storage", CLOSED],
        ["report", "t", "--storage", CLOSED, "--output", "r"],
        ["export", "t", "--storage", CLOSED, "--output", "m.py"],
        ["search", "exp.yaml", "--storage", CLOSED],
        # Not a store location at all (a scheme typo): the message quotes it, masked.
        ["search", "exp.yaml", "--storage", f"postgresql:/nas:{SECRET}@127.0.0.1/nas"],
        ["search", "exp.yaml", "--storage", f"nas:{SECRET}@127.0.0.1/nas"],
    ],
)
def test_failing_commands_never_print_the_password(command, tmp_path):
    write_experiment(tmp_path)
    out = nas(*command, cwd=tmp_path)
    assert out.returncode != 0
    assert SECRET not in out.stdout + out.stderr


def test_bad_store_location_message_is_masked(tmp_path):
    write_experiment(tmp_path)
    out = nas("search", "exp.yaml", "--storage", f"nas:{SECRET}@127.0.0.1/nas", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.startswith("error: command line: --storage: 'nas:***@127.0.0.1/nas' is")


def test_a_real_postgresql_search_report_and_export_never_show_the_password(tmp_path):
    url = postgres_url()
    password = make_url(url).password
    if not password:
        pytest.skip("NAS_TEST_POSTGRES_URL has no password to hide")
    import uuid

    study = f"pw-{uuid.uuid4().hex[:8]}"
    exp = write_experiment(
        tmp_path,
        trials=1,
        training="{epochs: 1}",
        storage=url,
        study=study,
        artifacts="{keep_weights: all}",
    )
    outputs = [nas("search", str(exp), cwd=tmp_path)]
    outputs.append(nas("trials", study, "--storage", url, cwd=tmp_path))
    outputs.append(nas("report", study, "--storage", url, "--output", "r", cwd=tmp_path))
    outputs.append(
        nas(
            "export",
            study,
            "--storage",
            url,
            "--output",
            "m.py",
            cwd=tmp_path,
        )
    )
    for out in outputs:
        assert out.returncode == 0, out.stderr
        # The user name may equal the password (it does in CI): look for the credential form.
        assert f":{password}@" not in out.stdout + out.stderr
    assert f":{password}@" not in (tmp_path / "r" / "index.html").read_text()
    assert f":{password}@" not in (tmp_path / "m.py").read_text()
