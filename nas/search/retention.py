"""Which trials keep their weight files under the experiment's ``artifacts`` policy."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState

from nas.config import ArtifactsSection
from nas.store import weights_path


def kept_trials(study: optuna.Study, policy: str, k: int) -> set[int]:
    """Trial numbers whose weights the artifacts policy keeps: every complete trial (``all``),
    none, or the ``k`` best by the first objective (ties to the lower number) plus, with
    several objectives, the Pareto front (``best_k``). Once dropped, a trial never comes
    back: later trials only push it further down."""
    if policy == "none":
        return set()
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if policy == "all":
        return {t.number for t in done}
    sign = -1.0 if study.directions[0] == optuna.study.StudyDirection.MAXIMIZE else 1.0
    ranked = sorted(done, key=lambda t: sign * t.values[0])
    keep = {t.number for t in ranked[:k]}
    if len(study.directions) > 1:
        keep |= {t.number for t in study.best_trials}
    return keep


def policy_text(artifacts: ArtifactsSection) -> str:
    """The keep_weights policy in words, as messages about dropped weights quote it."""
    if artifacts.keep_weights == "best_k":
        return f"best_k (k={artifacts.k})"
    return str(artifacts.keep_weights)


def prune_weight_files(study: optuna.Study, folder: Path, artifacts: ArtifactsSection) -> None:
    """Delete the weight files the policy no longer keeps and record each such trial in the
    study's ``weights_dropped`` attribute (trial number -> policy in words).

    Only files this toolkit wrote for the study are candidates: the ``weights`` attribute of
    each complete trial, if it is the name :func:`nas.store.save_weights` gives that trial
    (:func:`nas.store.weights_path`). Anything else in ``folder``, or a name a trial of
    another driver has not recorded yet, is left alone.

    The trial's own ``weights`` attribute still names the deleted file, since Optuna does
    not let a finished trial change; readers (:func:`nas.results.load_trials`) consult the
    study attribute instead.
    """
    keep = kept_trials(study, artifacts.keep_weights, artifacts.k)
    dropped: dict[str, str] = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if trial.number in keep:
            continue
        path = weights_path(folder, trial.user_attrs.get("weights"), trial.number)
        if path is not None and path.exists():
            path.unlink(missing_ok=True)
            dropped[str(trial.number)] = policy_text(artifacts)
    if dropped:
        # Read just before writing, so entries other drivers of the study added are kept.
        # Two drivers writing at the same moment can still lose one's entries; a reader then
        # finds the file missing and says so (nas.results.export), so nothing claims weights
        # that are gone.
        known = study.user_attrs.get("weights_dropped", {})
        study.set_user_attr("weights_dropped", {**known, **dropped})
