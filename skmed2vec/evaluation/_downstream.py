"""Downstream value of features: cross-validated AUROC and AUPRC with intervals."""

import logging
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import Interval, RealNotInt

from .._validation import validate_params
from ._bootstrap import bootstrap_scores, percentile_interval

__all__ = ["CrossValidatedAUCResult", "cross_validated_auc"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrossValidatedAUCResult:
    """Result of :func:`cross_validated_auc`.

    Attributes
    ----------
    auroc : float
        Area under the ROC curve of the out-of-fold probabilities.
    auroc_ci : tuple of float
        ``(low, high)`` percentile bootstrap confidence interval of ``auroc``.
    auprc : float
        Average precision (area under the precision-recall curve).
    auprc_ci : tuple of float
        ``(low, high)`` percentile bootstrap confidence interval of ``auprc``.
    n : int
        Number of samples.
    n_positive : int
        Number of samples of the positive class.
    confidence : float
        Confidence level of the intervals.
    """

    auroc: float
    auroc_ci: tuple
    auprc: float
    auprc_ci: tuple
    n: int
    n_positive: int
    confidence: float


@validate_params(
    {
        "estimator": "no_validation",
        "X": "no_validation",
        "y": ["array-like"],
        "cv": ["cv_object"],
        "groups": ["array-like", None],
        "n_bootstrap": [Interval(Integral, 1, None, closed="left")],
        "confidence": [Interval(RealNotInt, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }
)
def cross_validated_auc(
    estimator, X, y, *, cv=5, groups=None, n_bootstrap=1000, confidence=0.95, random_state=0
):
    """Out-of-fold AUROC and AUPRC of a binary classifier, with bootstrap intervals.

    Out-of-fold probabilities come from
    :func:`sklearn.model_selection.cross_val_predict` with
    ``method="predict_proba"``; the positive class is the larger of the two labels
    of ``y`` (the second column of ``predict_proba``). Confidence intervals are
    percentile intervals over ``n_bootstrap`` resamples of the patients, skipping
    resamples with a single class.

    When a patient has several samples (e.g. one per prediction time of a label
    table), given by ``groups`` or by the ``subject_ids`` of a
    :class:`~skmed2vec.Timelines`, the folds keep each patient's samples on one
    side of every split, and each bootstrap resample draws patients with
    replacement and takes all their samples' out-of-fold probabilities (a cluster
    bootstrap). With one sample per patient, folds and resamples are of samples.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn classifier (or pipeline) with ``predict_proba``, e.g. a
        pipeline of a skmed2vec transformer and a logistic regression.
    X : array-like or sequence
        Samples, in any form ``estimator`` accepts and scikit-learn can index
        (e.g. a list of patient code sequences); passed on unchanged.
    y : array-like of shape (n_samples,)
        Binary labels.
    cv : int or cross-validation splitter, default=5
        Number of stratified, shuffled folds, or a splitter / iterable of splits.
        With an integer and a patient having several samples, the folds are those
        of :class:`~sklearn.model_selection.StratifiedGroupKFold` (shuffled), so
        no patient is on both sides of a split; otherwise those of
        :class:`~sklearn.model_selection.StratifiedKFold`. A splitter receives
        ``groups`` (e.g. ``GroupKFold(5)``).
    groups : array-like of shape (n_samples,), default=None
        The patient (or other group) of each sample. None takes
        ``X.subject_ids`` when ``X`` is a :class:`~skmed2vec.Timelines` in which
        a subject has several samples (as from ``events_to_timelines(events,
        prediction_times=label_table)``), and otherwise makes every sample its
        own patient (a group splitter such as ``GroupKFold`` then needs
        ``groups``).
    n_bootstrap : int, default=1000
        Number of bootstrap resamples.
    confidence : float, default=0.95
        Confidence level of the intervals, strictly between 0 and 1.
    random_state : int or None, default=0
        Seed of the fold shuffling and of the bootstrap.

    Returns
    -------
    CrossValidatedAUCResult
        Frozen dataclass with ``auroc``, ``auroc_ci``, ``auprc``, ``auprc_ci``,
        ``n``, ``n_positive`` and ``confidence``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmed2vec.evaluation import cross_validated_auc
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> result = cross_validated_auc(LogisticRegression(), X, y, n_bootstrap=200)
    >>> result.auroc > 0.8, result.auroc_ci[0] <= result.auroc <= result.auroc_ci[1]
    (True, True)
    """
    confidence = float(confidence)
    y = np.asarray(y)
    classes = np.unique(y) if y.ndim == 1 else np.empty(0)
    if classes.size != 2:
        raise ValueError(
            f"y must be 1-D with exactly two classes, got shape {y.shape} and classes "
            f"{classes[:5].tolist()}"
        )
    groups, codes = _groups_of(X, y, groups)
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if codes is None:  # one sample per group: the folds of the samples
            cv, groups = StratifiedKFold(int(cv), shuffle=True, random_state=random_state), None
        else:
            cv = StratifiedGroupKFold(int(cv), shuffle=True, random_state=random_state)
    proba = cross_val_predict(estimator, X, y, groups=groups, cv=cv, method="predict_proba")[:, 1]
    positive = y == classes[1]

    rng = np.random.default_rng(random_state)
    boot_auroc, boot_auprc = bootstrap_scores(positive, proba, n_bootstrap, rng, codes)
    if boot_auroc.size < n_bootstrap:
        logger.info(
            "cross_validated_auc: %d of %d resamples had one class and were skipped",
            n_bootstrap - boot_auroc.size,
            n_bootstrap,
        )
    return CrossValidatedAUCResult(
        auroc=float(roc_auc_score(positive, proba)),
        auroc_ci=percentile_interval(boot_auroc, confidence),
        auprc=float(average_precision_score(positive, proba)),
        auprc_ci=percentile_interval(boot_auprc, confidence),
        n=int(y.size),
        n_positive=int(positive.sum()),
        confidence=confidence,
    )


def _groups_of(X, y, groups):
    """Groups to split by, and their integer codes if a group has several samples.

    ``groups`` None takes the ``subject_ids`` of a :class:`~skmed2vec.Timelines`
    (recognised by its ``subject_codes`` method; the evaluation package does not
    import the main one), but only when a subject repeats: unique subject ids are
    not passed to a splitter, which would warn that it ignores them. The codes are
    None when every group has one sample, so that folds and bootstrap resamples
    are then those of the samples.
    """
    explicit = groups is not None
    if not explicit and callable(getattr(X, "subject_codes", None)):
        groups = getattr(X, "subject_ids", None)
    if groups is None:
        return None, None
    groups = np.asarray(groups)
    if groups.shape != y.shape:
        raise ValueError(
            f"groups must have one value per sample ({y.size}); got shape {groups.shape}"
        )
    codes, uniques = pd.factorize(groups, use_na_sentinel=False)
    if uniques.size == y.size:
        return (groups if explicit else None), None
    return groups, codes
