"""Export reads only the weight file the search wrote for the trial: a stored ``weights``
attribute that is a path (an edited or hostile store) is refused, nothing is read or
written (a real search, the real ``nas export`` command)."""

from __future__ import annotations

import subprocess
import sys

from optuna.trial import create_trial

from ..helpers import searched_with_weights_outside


def test_export_refuses_a_stored_path_and_reads_nothing(tmp_path):
    # A file outside the study's folder that would load: a copy of real weights.
    exp, study, folder, outside = searched_with_weights_outside(tmp_path)
    stored = "../../outside.msgpack"
    assert (folder / stored).resolve() == outside.resolve()
    real = study.trials[0]
    study.add_trial(
        create_trial(
            values=real.values,
            params=real.params,
            distributions=real.distributions,
            user_attrs={**real.user_attrs, "weights": stored},
        )
    )

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "nas.cli",
            "export",
            "t",
            "--storage",
            exp.storage,
            "--trial",
            "1",
            "--output",
            "m.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    line = out.stderr.strip()
    assert line.startswith("error: trial 1 of t:") and "\n" not in line
    assert repr(stored) in line and "trial_1.msgpack" in line
    assert not (tmp_path / "m.py").exists() and not (tmp_path / "m.msgpack").exists()
