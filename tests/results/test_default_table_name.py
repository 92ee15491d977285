"""``nas trials --format`` without ``--output`` names its file after the study, but never
lets the name lead the file out of the current folder."""

from __future__ import annotations

from nas.cli import main
from nas.search import load_experiment, run_search
from nas.store import study_folder_name

from ..helpers import write_experiment


def test_default_table_file_stays_in_the_current_folder(tmp_path, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}", study='"../x"')
    run_search(load_experiment(exp))
    monkeypatch.chdir(here)
    assert (
        main(["trials", "../x", "--storage", f"sqlite:///{tmp_path}/store.db", "--format", "csv"])
        == 0
    )
    assert not (tmp_path / "x.csv").exists()
    assert [p.name for p in here.iterdir()] == [f"{study_folder_name('../x')}.csv"]
    # A plain name keeps its plain file name.
    exp = write_experiment(tmp_path, trials=1, training="{epochs: 1}", study="plain")
    run_search(load_experiment(exp))
    assert (
        main(["trials", "plain", "--storage", f"sqlite:///{tmp_path}/store.db", "--format", "json"])
        == 0
    )
    assert (here / "plain.json").exists()
