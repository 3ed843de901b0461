"""Percentile bootstrap intervals: means, and AUROC/AUPRC of resampled patients."""

import logging
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, RealNotInt

from ._vectors import BLOCK_ELEMENTS, block_rows

__all__ = ["INTERVAL_PARAMS", "bootstrap_scores", "mean_interval", "percentile_interval"]

#: Constraints of the results' ``interval(confidence, n_bootstrap, random_state)``.
INTERVAL_PARAMS = {
    "self": "no_validation",
    "confidence": [Interval(RealNotInt, 0, 1, closed="neither")],
    "n_bootstrap": [Interval(Integral, 1, None, closed="left")],
    "random_state": "no_validation",
}

logger = logging.getLogger(__name__)


def bootstrap_scores(positive, scores, n_bootstrap, rng, groups=None):
    """AUROC and average precision of ``n_bootstrap`` resamples of the samples.

    Each resample draws ``n`` sample indices with replacement; its metrics are
    computed from how often each sample was drawn, one tie group of scores at a
    time, which matches scikit-learn's metrics on the resampled arrays. Resamples
    with a single class are dropped.

    With ``groups`` (integer codes ``0 .. n_groups - 1``, one per sample), the
    resamples are of groups instead (a cluster bootstrap): each draws
    ``n_groups`` groups with replacement and takes every sample of each drawn
    group, as often as the group was drawn.
    """
    n = scores.size
    order = np.argsort(-scores, kind="stable")
    positive = positive[order]
    tie_starts = np.flatnonzero(np.r_[True, np.diff(scores[order]) != 0])
    if groups is not None:
        groups = np.asarray(groups)[order]
    m = n if groups is None else int(groups.max()) + 1
    aurocs, auprcs = [], []
    chunk = max(1, BLOCK_ELEMENTS // (8 * n))
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        drawn = rng.integers(0, m, size=(size, m)) + m * np.arange(size)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * m).reshape(size, m)
        weight = counts[:, order] if groups is None else counts[:, groups]
        # Per tie group, in decreasing score order: weight of positives and negatives.
        tp = np.add.reduceat(weight * positive, tie_starts, axis=1)
        fp = np.add.reduceat(weight * ~positive, tie_starts, axis=1)
        n_pos, n_neg = tp.sum(axis=1), fp.sum(axis=1)
        keep = (n_pos > 0) & (n_neg > 0)
        tp, fp, n_pos, n_neg = tp[keep], fp[keep], n_pos[keep], n_neg[keep]
        cum_tp, cum_fp = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
        # A positive beats the negatives of lower score and ties half of its group's.
        beaten = n_neg[:, None] - cum_fp + 0.5 * fp
        aurocs.append((tp * beaten).sum(axis=1) / (n_pos * n_neg))
        precision = np.divide(
            cum_tp, cum_tp + cum_fp, out=np.zeros(cum_tp.shape), where=cum_tp + cum_fp > 0
        )
        auprcs.append((tp * precision).sum(axis=1) / n_pos)
    return np.concatenate(aurocs), np.concatenate(auprcs)


def mean_interval(values, confidence, n_bootstrap, random_state):
    """Percentile bootstrap interval of the mean of ``values``."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(random_state)
    means = np.empty(n_bootstrap)
    chunk = block_rows(values.size)
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        draws = rng.integers(0, values.size, size=(size, values.size))
        means[start : start + size] = values[draws].mean(axis=1)
    return percentile_interval(means, confidence)


def percentile_interval(values, confidence):
    if values.size == 0:
        logger.warning("every bootstrap resample had a single class: the interval is NaN")
        return (float("nan"), float("nan"))
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return (float(low), float(high))
