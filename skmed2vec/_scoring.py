"""Label-free score: how well patient rows up to a time rank the codes that follow."""

import numpy as np

from ._features import patient_features
from ._timelines import Timelines

__all__ = ["HORIZON_DAYS", "next_codes_auc"]

#: Days after an anchor whose codes are the ones to rank first.
HORIZON_DAYS = 30.0
#: Anchors (patient, time) scored at most; drawn with a fixed seed.
MAX_ANCHORS = 20_000
#: Codes drawn by frequency against each anchor's following code.
N_NEGATIVES = 20
#: Most recent events of an anchor's history that build its row.
MAX_HISTORY = 1_000


def _anchors(X, horizon, rng):
    """Events closing their time stamp with a later event within ``horizon`` days."""
    patient = X.patient_ids()
    n = X.n_events
    nxt = np.arange(1, n + 1)
    same_patient = np.zeros(n, dtype=bool)
    same_patient[:-1] = patient[1:] == patient[:-1]
    # Last event of its (patient, time): the next event is another patient or later.
    closes = ~same_patient.copy()
    closes[:-1] |= X.times[1:] > X.times[:-1]
    # First event after the time stamp: the next one for closing events.
    followed = closes & same_patient
    first_after = np.where(followed, nxt, -1)
    ok = followed.copy()
    ok[followed] = X.times[first_after[followed]] - X.times[followed] <= horizon
    anchors = np.flatnonzero(ok)
    if anchors.size > MAX_ANCHORS:
        anchors = np.sort(rng.choice(anchors, MAX_ANCHORS, replace=False))
    return anchors, patient


def _histories(X, anchors, patient):
    """Timelines holding each anchor's history (its patient's events up to it)."""
    start = np.maximum(X.offsets[patient[anchors]], anchors + 1 - MAX_HISTORY)
    lengths = anchors + 1 - start
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    events = np.repeat(start - offsets[:-1], lengths) + np.arange(offsets[-1])
    return Timelines(
        X.codes[events],
        X.times[events],
        offsets,
        code_names=X.code_names,
        time_kind=X.time_kind,
        presorted=True,
    )


def _window_ends(times, ends, anchors, horizon):
    """Position after the last event within ``horizon`` days of each anchor, in its timeline.

    A bisection of each anchor's own timeline (``anchors[i]`` to ``ends[i]``,
    times sorted), all anchors at once: exact whatever the number of timelines
    (one search over ``patient * big + time`` keys lost the seconds of later
    patients to float rounding).
    """
    bound = times[anchors] + horizon
    low, high = anchors + 1, np.asarray(ends, dtype=np.int64).copy()
    while True:
        open_ = low < high
        if not open_.any():
            return low
        middle = (low + high) // 2
        within = open_ & (times[np.minimum(middle, times.size - 1)] <= bound)
        low = np.where(within, middle + 1, low)
        high = np.where(open_ & ~within, middle, high)


def _following_code(X, anchors, patient, horizon, known, rng):
    """One code drawn among the distinct known codes within ``horizon`` days after each anchor.

    Returns the drawn codes and, per anchor, the set of codes in its window
    (as a sorted key array ``anchor * n_codes + code``) for excluding them
    from the negatives; anchors with no known code following get -1.
    """
    n_codes = len(X.code_names)
    limit = _window_ends(X.times, X.offsets[patient[anchors] + 1], anchors, horizon)
    lengths = limit - anchors - 1
    owner = np.repeat(np.arange(anchors.size), lengths)
    firsts = np.concatenate([[0], np.cumsum(lengths)])
    events = np.repeat(anchors + 1 - firsts[:-1], lengths) + np.arange(firsts[-1])
    codes = X.codes[events]
    keep = known[codes]
    keys = np.unique(owner[keep].astype(np.int64) * n_codes + codes[keep])
    holder, code = keys // n_codes, keys % n_codes
    counts = np.bincount(holder, minlength=anchors.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pick = starts + np.floor(rng.random(anchors.size) * np.maximum(counts, 1)).astype(np.int64)
    if keys.size == 0:  # no known code follows any anchor
        return np.full(anchors.size, -1), keys
    drawn = np.where(counts > 0, code[np.minimum(pick, keys.size - 1)], -1)
    return drawn, keys


def next_codes_auc(
    code_vectors, context_vectors, code_counts, X, recency_decay, horizon, code_weights=None
):
    """Share of frequency-drawn codes ranked below a code that follows, over anchors.

    Parameters
    ----------
    code_vectors, context_vectors : ndarray of shape (n_codes, embed_dim)
    code_counts : ndarray of shape (n_codes,)
        Training events per code: the distribution the negatives are drawn from.
    X : Timelines
        Encoded timelines, cut at their prediction times.
    recency_decay : float
        Decay per day of the patient row built at each anchor.
    horizon : float
        Days after an anchor whose codes count as following it.
    code_weights : ndarray of shape (n_codes,), default=None
        Factor on each code's weight in the row (see
        :func:`~skmed2vec._features.patient_features`).

    Returns
    -------
    float
        In [0, 1]; 0.5 is chance.

    Notes
    -----
    An anchor is a (patient, time) with a later event within ``horizon``
    days. Its row is the recency-weighted mean of the code vectors of the
    patient's events up to that time (the ``"recency"`` block of
    ``transform`` as if it were the prediction time). Each known code ``c``
    is scored by ``row @ context_vectors[c]``, the skip-gram's log-odds of
    ``c`` in that context. One code is drawn among the distinct codes
    following the anchor, and ``N_NEGATIVES`` codes by training frequency
    among those not following it; the score is the share of negatives ranked
    below the drawn code (ties count half). ``"<UNK>"`` is never drawn.
    Anchors and draws use a fixed seed, so every candidate of a search is
    scored on the same anchors and codes.
    """
    rng = np.random.RandomState(0)
    known = code_counts > 0
    known[0] = False
    anchors, patient = _anchors(X, horizon, rng)
    if anchors.size == 0:
        raise ValueError(f"X has no event followed by another within {horizon:g} days to score.")
    positive, keys = _following_code(X, anchors, patient, horizon, known, rng)
    valid = positive >= 0
    if not valid.any():
        raise ValueError("X has no known code following an event to score.")
    anchors, positive = anchors[valid], positive[valid]
    probs = np.where(known, code_counts, 0).astype(np.float64)
    negatives = rng.choice(len(probs), (anchors.size, N_NEGATIVES), p=probs / probs.sum())
    owner = np.flatnonzero(valid)[:, None]
    following = np.isin(owner * len(probs) + negatives, keys)
    rows = patient_features(
        code_vectors,
        _histories(X, anchors, patient),
        recency_decay,
        ["recency"],
        code_weights=code_weights,
    )
    wins = 0.0
    for part in range(0, anchors.size, 2_000):
        block = slice(part, part + 2_000)
        positive_score = np.einsum("ae,ae->a", rows[block], context_vectors[positive[block]])
        negative_score = np.einsum("ae,ake->ak", rows[block], context_vectors[negatives[block]])
        ahead = positive_score[:, None] - negative_score
        wins += np.where(following[block], 0.0, (ahead > 0) + 0.5 * (ahead == 0)).sum()
    counted = (~following).sum()
    if counted == 0:  # every code drawn follows its anchor: nothing ranks below
        raise ValueError(
            "X has no code that does not follow an anchor to rank against (too few known "
            "codes to score)."
        )
    return float(wins / counted)
