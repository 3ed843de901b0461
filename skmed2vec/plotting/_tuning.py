"""TuningCurveDisplay: cross-validated score against time_decay, one line per embed_dim."""

import numpy as np

from ._base import axes

__all__ = ["TuningCurveDisplay"]


def _param_key(params, name):
    """The key of ``cv_results_['params']`` that sets ``name`` (``step__name`` or ``name``)."""
    keys = [k for k in params if k == name or k.endswith(f"__{name}")]
    if len(keys) != 1:
        found = ", ".join(sorted(params)) or "none"
        raise ValueError(
            f"the search must vary exactly one parameter named {name!r} (or '<step>__{name}'); "
            f"its grid has: {found}."
        )
    return keys[0]


class TuningCurveDisplay:
    """Cross-validated score against one parameter, one line per value of another.

    Parameters
    ----------
    x_values : ndarray of shape (n_x,)
    series : dict of value to (mean, std) arrays of shape (n_x,)
        Mean and standard deviation of the test score over the folds, NaN where the
        grid has no candidate.
    x_name, series_name : str
    best : tuple (x, series value, score) or None
        The search's chosen candidate, marked with a star.
    scoring : str

    Attributes
    ----------
    lines_ : dict of value to matplotlib Line2D
    best_marker_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skmed2vec import TemporalMed2VecEmbedder
    >>> from skmed2vec.datasets import make_cohort
    >>> from skmed2vec.plotting import TuningCurveDisplay
    >>> X = make_cohort(60, random_state=0).X
    >>> grid = {"time_decay": [0.0, 0.01], "embed_dim": [4, 8]}
    >>> search = GridSearchCV(TemporalMed2VecEmbedder(epochs=1, random_state=0), grid, cv=2)
    >>> display = TuningCurveDisplay.from_estimator(search.fit(X))
    >>> sorted(display.lines_)
    [4, 8]
    """

    def __init__(self, x_values, series, *, x_name, series_name, best=None, scoring="score"):
        self.x_values = x_values
        self.series = series
        self.x_name = x_name
        self.series_name = series_name
        self.best = best
        self.scoring = scoring

    @classmethod
    def from_cv_results(
        cls,
        cv_results,
        *,
        x="time_decay",
        series="embed_dim",
        best_index=None,
        metric=None,
        ax=None,
    ):
        """Plot from a ``cv_results_`` dict.

        Parameters
        ----------
        cv_results : dict
            ``GridSearchCV.cv_results_``; its grid must vary ``x`` (a number) and may
            vary ``series``. When it varies other parameters too (a classifier's
            ``C``...), each point is the best candidate among those sharing its
            ``x`` and ``series`` values.
        x, series : str, default="time_decay", "embed_dim"
            Parameter names, bare or with their pipeline step (``"step__time_decay"``).
        best_index : int, default=None
            Candidate to mark (``best_index_``).
        metric : str, default=None
            For a search with several scorers, the one to plot (``"auroc"`` plots
            ``mean_test_auroc``); None for a single score.
        ax : matplotlib Axes, default=None

        Returns
        -------
        TuningCurveDisplay
        """
        params = cv_results["params"]
        name = "score" if metric is None else metric
        if f"mean_test_{name}" not in cv_results:
            scorers = sorted(
                k[len("mean_test_") :] for k in cv_results if k.startswith("mean_test_")
            )
            raise ValueError(
                f"cv_results has no mean_test_{name}; its scorers are {scorers}: pass "
                "metric= to choose one."
            )
        if not params:
            raise ValueError("cv_results has no candidates.")
        # A list of grids sets different parameters in different candidates.
        keys = {k: None for p in params for k in p}
        x_key = _param_key(keys, x)
        has_series = any(k == series or k.endswith(f"__{series}") for k in keys)
        series_key = _param_key(keys, series) if has_series else None
        for key in (x_key, series_key):
            lacking = [i for i, p in enumerate(params) if key is not None and key not in p]
            if lacking:
                raise ValueError(
                    f"candidate {lacking[0]} of the search does not set {key!r}, which "
                    f"{len(params) - len(lacking)} others set (a list of grids?): plot "
                    "the candidates of each grid apart, or name another parameter."
                )
        mean = np.asarray(cv_results[f"mean_test_{name}"], dtype=float)
        std = np.asarray(cv_results[f"std_test_{name}"], dtype=float)
        x_values = np.array(sorted({float(p[x_key]) for p in params}))
        values = sorted({p[series_key] for p in params}) if series_key else [None]
        curves = {}
        for value in values:
            m, s = np.full(len(x_values), np.nan), np.full(len(x_values), np.nan)
            for i, p in enumerate(params):
                if series_key is None or p[series_key] == value:
                    j = int(np.searchsorted(x_values, float(p[x_key])))
                    # Other parameters of the grid: the best candidate at this point.
                    if np.isnan(m[j]) or mean[i] > m[j]:  # a failed (NaN) one never wins
                        m[j], s[j] = mean[i], std[i]
            curves[value] = (m, s)
        best = None
        if best_index is not None:
            p = params[best_index]
            best = (float(p[x_key]), p[series_key] if series_key else None, mean[best_index])
        display = cls(
            x_values,
            curves,
            x_name=x,
            series_name=series if series_key else None,
            best=best,
            scoring=name,
        )
        return display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, search, *, x="time_decay", series="embed_dim", metric=None, ax=None):
        """Plot a fitted ``GridSearchCV`` (or any search with ``cv_results_``).

        Parameters
        ----------
        search : GridSearchCV
            Fitted; its best candidate is marked and its scoring names the y axis.
        x, series : str, default="time_decay", "embed_dim"
            As for :meth:`from_cv_results`.
        metric : str, default=None
            For several scorers, the one to plot; None plots the one the search
            refits on (``refit="auroc"``).
        ax : matplotlib Axes, default=None
            Where to draw; a new figure's axes if None.

        Returns
        -------
        TuningCurveDisplay
        """
        if not hasattr(search, "cv_results_"):
            raise ValueError("search must be a fitted GridSearchCV (it has no cv_results_).")
        several = isinstance(search.scoring, (dict, list, tuple, set))
        if metric is None and several and isinstance(getattr(search, "refit", None), str):
            metric = search.refit
        display = cls.from_cv_results(
            search.cv_results_,
            x=x,
            series=series,
            best_index=getattr(search, "best_index_", None),
            metric=metric,
            ax=ax,
        )
        scoring = metric or (search.scoring if isinstance(search.scoring, str) else "score")
        display.scoring = scoring
        display.ax_.set_ylabel(f"cross-validated {scoring}")
        return display

    def plot(self, ax=None):
        """Draw the curves on ``ax`` (a new figure's axes if None).

        Returns
        -------
        TuningCurveDisplay
        """
        ax = axes(ax, type(self).__name__)
        self.lines_ = {}
        for value, (mean, std) in self.series.items():
            label = f"{self.series_name}={value}" if self.series_name else "score"
            (line,) = ax.plot(self.x_values, mean, marker="o", label=label)
            ax.fill_between(
                self.x_values, mean - std, mean + std, color=line.get_color(), alpha=0.15
            )
            self.lines_[value] = line
        self.best_marker_ = None
        if self.best is not None:
            (self.best_marker_,) = ax.plot(
                [self.best[0]],
                [self.best[2]],
                marker="*",
                markersize=14,
                color="k",
                linestyle="none",
                label="chosen",
            )
        positive = self.x_values[self.x_values > 0]
        if len(positive) and positive.max() / positive.min() >= 20:
            # Decays span decades and include 0: linear near 0, logarithmic beyond.
            ax.set_xscale("symlog", linthresh=positive.min())
        ax.set_xlabel(self.x_name)
        ax.set_ylabel(f"cross-validated {self.scoring}")
        ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self
