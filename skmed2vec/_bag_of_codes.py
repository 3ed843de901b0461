"""BagOfCodes: the simplest patient rows, one column per code (and time window)."""

from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._base import TimelineEstimatorMixin
from ._timelines import as_timelines
from ._vocabulary import CodeVocabulary
from ._weights import temporal_weight

__all__ = ["BagOfCodes", "event_ages"]

_WEIGHTINGS = ("binary", "count", "recency")


def event_ages(X):
    """Days from each event to its patient's prediction time.

    Parameters
    ----------
    X : Timelines
        Timelines already cut at their prediction times.

    Returns
    -------
    ndarray of float64 of shape (n_events,)
        ``T - t`` with ``T`` the prediction time, or the patient's last event
        when the prediction time is not set (NaN); never negative.
    """
    reference = np.where(np.isnan(X.prediction_times), X.last_times(), X.prediction_times)
    ages = np.repeat(reference, X.lengths) - X.times
    return np.maximum(ages, 0.0)


class BagOfCodes(TimelineEstimatorMixin, TransformerMixin, BaseEstimator):
    """One column per code: presence, count or recency-weighted count.

    The baseline to beat, and a companion to :class:`TemporalMed2VecEmbedder`
    in a :class:`~sklearn.pipeline.FeatureUnion`: it takes the same input
    (raw timelines, or the output of a fitted :class:`CodeVocabulary`) and
    uses only the events up to each patient's prediction time. With
    ``windows``, each time window (the last 30 days, the last 365 days, the
    whole history, ...) gets its own block of columns, as in MEDS-Tab.

    Parameters
    ----------
    weighting : {"binary", "count", "recency"}, default="binary"
        Value of a (patient, code) cell: 1 if the code occurs, the number of
        its events, or the sum over its events of ``exp(-time_decay * age)``,
        with ``age`` the days from the event to the prediction time.
    time_decay : float, default=0.01
        Decay per day of the ``"recency"`` weights; ignored by the others.
    windows : list of (float or None), default=None
        Look-back windows in days; each gives one block of columns over the
        events at most that many days before the prediction time, ``None``
        standing for the whole history. ``None`` (the default) is one block
        over the whole history.

    Attributes
    ----------
    codes_ : ndarray of str of shape (n_codes,)
        Code of each column of a block; ``codes_[0] == "<UNK>"``.
    vocabulary_ : dict of str to int
        Column of each code within a block.
    code_vocabulary_ : CodeVocabulary or None
        The default vocabulary fitted when ``fit`` received raw timelines.
    time_kind_ : str or None
        Time kind (``"days"`` or ``"datetime"``) of the training timelines.

    See Also
    --------
    TemporalMed2VecEmbedder : Dense patient rows from learned code vectors.
    CodeVocabulary : Which codes get a column; rare ones share ``"<UNK>"``.

    Notes
    -----
    The prediction time of a patient whose ``prediction_times`` is not set
    is its last event that reaches the bag: after
    ``CodeVocabulary(handle_unknown="ignore")`` dropped an unknown last event,
    the one before it, so the windows and recency weights of the other codes
    move; give prediction times to measure from a fixed time. The output is
    a sparse CSR matrix of float64 with ``len(windows) * n_codes`` columns;
    pandas output is not available for sparse data.

    Examples
    --------
    >>> from skmed2vec import BagOfCodes
    >>> X = [[(0, "E11.9"), (2, "I10"), (30, "I10")], [(0, "I10")]]
    >>> bag = BagOfCodes(weighting="count", windows=[7, None]).fit(X)
    >>> bag.get_feature_names_out().tolist()
    ['count_7d_<UNK>', 'count_7d_I10', 'count_7d_E11.9', \
'count_all_<UNK>', 'count_all_I10', 'count_all_E11.9']
    >>> bag.transform(X).toarray()
    array([[0., 1., 0., 0., 2., 1.],
           [0., 1., 0., 0., 1., 0.]])
    """

    _parameter_constraints = {
        "weighting": [StrOptions(set(_WEIGHTINGS))],
        "time_decay": [Interval(Real, 0, None, closed="left")],
        "windows": [list, tuple, None],
    }

    def __init__(self, *, weighting="binary", time_decay=0.01, windows=None):
        self.weighting = weighting
        self.time_decay = time_decay
        self.windows = windows

    def _windows(self):
        if self.windows is None:
            return [None]
        windows = list(self.windows)
        bad = [
            w
            for w in windows
            if w is not None
            and (isinstance(w, bool) or not isinstance(w, Real) or not (w > 0) or np.isinf(w))
        ]
        if not windows or bad:
            raise ValueError(
                "windows must be a non-empty list of positive numbers of days or None "
                f"(the whole history); got {self.windows!r}."
            )
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must not repeat a window; got {self.windows!r}.")
        return windows

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the columns: the codes of ``X`` (or of its vocabulary).

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines
            Raw timelines (a default :class:`CodeVocabulary` is then fitted) or
            the output of a fitted :class:`CodeVocabulary`.
        y : None
            Ignored.

        Returns
        -------
        self : BagOfCodes
        """
        self._windows()
        X = as_timelines(X)
        vocabulary = None if X.is_encoded else CodeVocabulary().fit(X)
        codes = np.asarray(X.code_names if vocabulary is None else vocabulary.codes_)
        self.code_vocabulary_ = vocabulary
        self.codes_ = codes
        self.vocabulary_ = {code: i for i, code in enumerate(codes.tolist())}
        self.time_kind_ = X.time_kind if X.n_events else None
        return self

    def transform(self, X):
        """Sparse rows, one per patient, from the events up to its prediction time.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines

        Returns
        -------
        scipy.sparse.csr_matrix of float64 of shape (n_patients, n_windows * n_codes)
        """
        check_is_fitted(self, "codes_")
        self._validate_params()  # read here, so checked here too (set_params after fit)
        X = self._encoded_input(X)
        n, n_codes = len(X), len(self.codes_)
        patient = X.patient_ids()
        ages = event_ages(X)
        if self.weighting == "recency":
            values = temporal_weight(ages, self.time_decay)
        else:
            values = np.ones(X.n_events)
        blocks = []
        for window in self._windows():
            keep = slice(None) if window is None else ages <= window
            block = sp.csr_matrix(
                (values[keep], (patient[keep], X.codes[keep])), shape=(n, n_codes)
            )
            block.sum_duplicates()
            if self.weighting == "binary":
                block.data[:] = 1.0
            blocks.append(block)
        return sp.hstack(blocks, format="csr", dtype=np.float64)

    def get_feature_names_out(self, input_features=None):
        """Names of the columns: ``"<weighting>_<window>_<code>"``.

        The window reads ``"30d"`` for the last 30 days, ``"all"`` for the
        whole history.

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "codes_")
        self._validate_params()
        names = []
        for window in self._windows():
            label = (
                "all"
                if window is None
                else f"{np.format_float_positional(float(window), trim='-')}d"
            )
            names += [f"{self.weighting}_{label}_{code}" for code in self.codes_.tolist()]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
