"""`nas report`: PNG plots and an offline HTML page, checked in a real headless browser."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser

import matplotlib.image
import optuna
import pytest

from nas.cli import main
from nas.results import load_trials, rank, write_report

from ..studies import searched

# Appended to a copy of the page: after everything loaded, mark each image with whether the
# browser could decode it, and the body with the end of the check.
PROBE = """
<img src="missing.png" alt="control: a file that does not exist">
<script>
window.addEventListener("load", () => {
  for (const img of document.images) {
    img.setAttribute("data-loaded", String(img.complete && img.naturalWidth > 0));
  }
  document.body.setAttribute("data-checked", "yes");
});
</script>
"""


class Links(HTMLParser):
    """Every URL the page refers to, by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [(tag, value) for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    return searched("cnn", tmp_path_factory)


@pytest.fixture(scope="module")
def report(cnn, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    assert main(["report", cnn.study, "--storage", cnn.storage, "--output", str(folder)]) == 0
    return folder


def test_report_writes_plots_and_a_page_that_shows_them(report):
    page = (report / "index.html").read_text()
    images = sorted(p.name for p in report.glob("*.png"))
    assert images == [
        "curves.png",
        "front_n_params_val_accuracy.png",
        "history.png",
        "importances.png",
    ]
    for name in images:
        height, width, _ = matplotlib.image.imread(report / name).shape
        assert height > 100 and width > 100
    links = Links()
    links.feed(page)
    # Offline: every reference is one of the images beside the page; no scripts, no styles.
    assert sorted(url for _, url in links.urls) == images
    assert {tag for tag, _ in links.urls} == {"img"}


def test_report_table_lists_the_top_trials_best_first(cnn, report):
    page = (report / "index.html").read_text()
    ranked = rank(load_trials(cnn.storage, cnn.study))
    rows = re.findall(r"<tr><td>(\d+)</td>", page)
    assert [int(n) for n in rows] == list(ranked["number"].head(10))
    assert (
        "<tr><th>Objectives</th><td>maximize validation accuracy, minimize parameters</td></tr>"
        in page
    )


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_page_renders_with_every_image_in_headless_chromium(report, tmp_path):
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing; run .ci/chromium.sh")
        pytest.skip("chromium is not installed (.ci/chromium.sh installs it)")
    probe = report / "probe.html"
    probe.write_text((report / "index.html").read_text().replace("</body>", PROBE + "</body>"))
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert 'data-checked="yes"' in dom
    loaded = dict(re.findall(r'<img src="([^"]+)"[^>]*data-loaded="(true|false)"', dom))
    assert loaded.pop("missing.png") == "false"  # the check can fail
    assert loaded == {name.name: "true" for name in report.glob("*.png")}
    assert "<table>" in dom and "Study cnn" in dom


def test_report_of_a_single_objective_study(tmp_path_factory, tmp_path):
    mlp = searched("mlp", tmp_path_factory)
    page = write_report(mlp.storage, mlp.study, tmp_path / "r", top=3).read_text()
    assert "front_n_params_val_accuracy.png" in page and "importances.png" in page
    assert len(re.findall(r"<tr><td>", page)) == 3
    assert "fail" in page  # the counts by state name the rejected trials


def test_report_before_any_trial_completed(tmp_path):
    storage = f"sqlite:///{tmp_path / 'empty.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(study_name="empty", storage=storage)
    study.set_user_attr("objectives", [["val_accuracy", "maximize"]])
    page = write_report(storage, "empty", tmp_path / "r").read_text()
    assert "No trial has completed yet." in page
    assert not list((tmp_path / "r").glob("*.png"))


def test_report_of_an_unknown_study_exits_2(cnn, tmp_path, capsys):
    argv = ["report", "nope", "--storage", cnn.storage, "--output", str(tmp_path / "r")]
    assert main(argv) == 2
    assert "no study 'nope'" in capsys.readouterr().err
