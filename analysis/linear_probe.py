"""The fitting and scoring under analysis.representation: linear probes held out by world.

Why a module of its own: the representational probes fit the same probe on many inputs (layers,
the raw observation) and labels (the target, its control task); this is that one fit, and the
per-world sums from which every score and its bootstrap resamples follow at once.

Probes (scikit-learn, standardised inputs): LogisticRegression with balanced class weights for
binary and categorical targets, scored by balanced accuracy (chance = 1 / classes); Ridge for
continuous ones, scored by R^2 (chance = 0).
"""

from __future__ import annotations

import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from analysis.activations import BINARY, CATEGORICAL

N_FOLDS = 4


def kind_of(target: str) -> str:
    """"classification" or "regression" (why: it picks the probe and the score)."""
    return "classification" if target in BINARY or target in CATEGORICAL else "regression"


def chance_of(kind: str, classes: np.ndarray) -> float:
    """The score of a probe that knows nothing: 1 / classes (balanced accuracy) or 0 (R^2)."""
    return 1.0 / classes.size if kind == "classification" else 0.0


def _probe(kind: str, seed: int):
    from sklearn.linear_model import LogisticRegression, Ridge  # deferred: heavy at start-up
    from sklearn.pipeline import make_pipeline  # deferred: heavy at start-up
    from sklearn.preprocessing import StandardScaler  # deferred: heavy at start-up

    if kind == "classification":
        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=300, random_state=seed)
    else:
        model = Ridge(alpha=1.0)
    return make_pipeline(StandardScaler(), model)


def fit_score(y: np.ndarray, pred: np.ndarray, kind: str) -> float:
    """Balanced accuracy or R^2 of pred against y (scikit-learn's)."""
    from sklearn.metrics import balanced_accuracy_score, r2_score  # deferred: heavy at start-up

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a class absent from pred
        return float(balanced_accuracy_score(y, pred) if kind == "classification" else r2_score(y, pred))


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, kind: str, seed: int = 0,
                n_folds: int = N_FOLDS, max_train: int | None = None,
                train_scores: list[float] | None = None) -> np.ndarray:
    """Predictions for every sample from a probe fitted on the other groups (GroupKFold).

    max_train: at most this many training samples per fold (drawn with a seeded generator),
    which bounds the time of a fit. train_scores: if given, each fold's score on its own training
    samples is appended (how well the probe fits what it saw: memorisation, for a control task).
    """
    from sklearn.model_selection import GroupKFold  # deferred: heavy at start-up

    n_groups = np.unique(groups).size
    if n_groups < 2:
        raise ValueError("out_of_fold: held-out evaluation needs samples from at least 2 worlds")
    pred = np.empty(y.shape, dtype=np.float64)
    rng = np.random.default_rng(seed)
    for train, test in GroupKFold(n_splits=min(n_folds, n_groups)).split(x, y, groups):
        if max_train is not None and train.size > max_train:
            train = np.sort(rng.choice(train, max_train, replace=False))
        yt = y[train]
        if kind == "classification" and np.unique(yt).size < 2:
            pred[test] = yt[0]  # one class seen: the only thing a probe could say
            continue
        model = fit_probe(x[train], yt, kind, seed)
        with threadpool_limits(1):
            pred[test] = model.predict(x[test])
            if train_scores is not None:
                train_scores.append(fit_score(yt, model.predict(x[train]), kind))
    return pred


def fit_probe(x: np.ndarray, y: np.ndarray, kind: str, seed: int = 0):
    """The probe (a scikit-learn pipeline: StandardScaler, then LogisticRegression or Ridge) fit on x, y."""
    model = _probe(kind, seed)
    # one BLAS/OpenMP thread: on a shared 2-core machine more threads made each fit 20-50x slower
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # lbfgs convergence notes on near-separable targets
        model.fit(x, y)
    return model


def probe_direction(model) -> np.ndarray:
    """A fitted binary or continuous probe's weight vector in the input's own units, (D,) float64.

    The probe reads w . (x - mean) / scale, i.e. (w / scale) . x plus a constant: w / scale is the
    direction in activation space along which the probe's output grows. Categorical probes (one
    vector per class) have no single direction and are refused.
    """
    scaler, head = model[0], model[-1]
    coef = np.asarray(head.coef_, dtype=np.float64)
    if coef.ndim == 2:
        if coef.shape[0] != 1:
            raise ValueError(f"probe_direction: a probe with {coef.shape[0]} classes has no single direction")
        coef = coef[0]
    return coef / scaler.scale_


def group_sums(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, kind: str, classes: np.ndarray,
               n_groups: int) -> np.ndarray:
    """Per-world sufficient statistics of the score: (n_groups, S)."""
    if kind == "classification":
        out = np.zeros((n_groups, 2 * classes.size))
        for j, c in enumerate(classes):
            is_c = y == c
            out[:, j] = np.bincount(groups, weights=is_c, minlength=n_groups)
            out[:, classes.size + j] = np.bincount(groups, weights=is_c & (pred == c), minlength=n_groups)
        return out
    cols = (np.ones_like(y), y, y * y, (y - pred) ** 2)
    return np.stack([np.bincount(groups, weights=c, minlength=n_groups) for c in cols], axis=1)


def score_from_sums(sums: np.ndarray, kind: str) -> np.ndarray:
    """Scores (R,) from summed statistics (R, S): balanced accuracy or R^2."""
    sums = np.atleast_2d(sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "classification":
            k = sums.shape[1] // 2
            count, correct = sums[:, :k], sums[:, k:]
            recall = np.where(count > 0, correct / np.where(count > 0, count, 1), np.nan)
            present = (count > 0).sum(axis=1)
            # a resample that lost a class entirely cannot say how well that class is read
            return np.where(present == k, np.nanmean(recall, axis=1), np.nan)
        n, sy, syy, sse = sums.T
        sst = syy - sy * sy / n
        return np.where(sst > 1e-12, 1.0 - sse / sst, np.nan)
