"""Parameter importances of a stored study (Optuna's fANOVA): analysis that needs Optuna's
own view of the trials, so it lives beside the store rather than in the frames."""

from __future__ import annotations

import numpy as np
import optuna

from nas.store.records import load_study


def param_importances(
    storage: str, study: str, *, objective: int = 0, min_trials: int = 4
) -> dict[str, float]:
    """Importance of each parameter for the ``objective``-th objective (Optuna's fANOVA with
    a fixed seed; the values sum to 1), most important first.

    Only parameters that every complete trial has are assessed. Empty when fewer than
    ``min_trials`` trials completed or when Optuna cannot assess any parameter (e.g. none
    varies). Reads the study through Optuna, so it is slower than :func:`load_trials`.
    """
    # Optuna's importance module loads scikit-learn (about a second): only when asked for.
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    st = load_study(storage, study)
    done = st.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(done) < max(min_trials, 2):
        return {}
    try:
        importances = get_param_importances(
            st,
            evaluator=FanovaImportanceEvaluator(seed=0),
            target=lambda t: t.values[objective],
        )
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    return {name: float(value) for name, value in importances.items() if np.isfinite(value)}
