"""NeighbourPrecisionDisplay: neighbour precision against k, with the random baseline."""

import numpy as np

from ._base import axes

__all__ = ["NeighbourPrecisionDisplay"]


class NeighbourPrecisionDisplay:
    """Share of a code's k nearest neighbours in its own group, against k.

    The dashed line is the frequency-matched random baseline of
    :func:`skmed2vec.evaluation.neighbour_precision`; the band, the bootstrap interval.

    Parameters
    ----------
    ks : ndarray of int
    precision, baseline : ndarray of float, same shape as ``ks``
    intervals : ndarray of shape (n_k, 2) or None
    name : str or None
        Legend label of the curve.

    Attributes
    ----------
    line_ : matplotlib Line2D
    baseline_line_ : matplotlib Line2D
    band_ : matplotlib PolyCollection or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmed2vec import TemporalMed2VecEmbedder
    >>> from skmed2vec.datasets import make_cohort
    >>> from skmed2vec.plotting import NeighbourPrecisionDisplay
    >>> cohort = make_cohort(100, random_state=0)
    >>> embedder = TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0).fit(cohort.X)
    >>> display = NeighbourPrecisionDisplay.from_embeddings(
    ...     embedder, cohort.groups, ks=[1, 5], n_bootstrap=0)
    >>> display.line_.get_xdata().tolist()
    [1, 5]
    """

    def __init__(self, ks, precision, baseline, *, intervals=None, name=None):
        self.ks = ks
        self.precision = precision
        self.baseline = baseline
        self.intervals = intervals
        self.name = name

    @classmethod
    def from_results(cls, results, *, name=None, n_bootstrap=1000, ax=None):
        """Plot a list of ``NeighbourPrecisionResult``, one per k.

        Parameters
        ----------
        results : sequence of NeighbourPrecisionResult
            From :func:`skmed2vec.evaluation.neighbour_precision` at several ``k``.
        name : str, default=None
        n_bootstrap : int, default=1000
            Resamples of each result's interval; 0 draws no band.
        ax : matplotlib Axes, default=None

        Returns
        -------
        NeighbourPrecisionDisplay
        """
        results = sorted(results, key=lambda r: r.k)
        if not results:
            raise ValueError("results is empty: pass one neighbour_precision result per k.")
        ks = np.array([r.k for r in results])
        if len(np.unique(ks)) != len(ks):
            raise ValueError(f"results must have distinct k; got k={ks.tolist()}.")
        intervals = None
        if n_bootstrap:
            intervals = np.array([r.interval(n_bootstrap=n_bootstrap) for r in results])
        display = cls(
            ks,
            np.array([r.precision for r in results]),
            np.array([r.baseline for r in results]),
            intervals=intervals,
            name=name,
        )
        return display.plot(ax=ax)

    @classmethod
    def from_embeddings(
        cls,
        embeddings,
        grouping,
        *,
        ks=(1, 2, 5, 10, 20),
        name=None,
        n_bootstrap=1000,
        random_state=0,
        ax=None,
    ):
        """Compute neighbour precision at each k, then plot it.

        Parameters
        ----------
        embeddings : fitted embedder, gensim KeyedVectors, DataFrame or (vectors, codes)
            Anything :func:`skmed2vec.evaluation.neighbour_precision` accepts.
        grouping : mapping or pandas.Series
            Group of each code.
        ks : sequence of int, default=(1, 2, 5, 10, 20)
        name : str, default=None
        n_bootstrap : int, default=1000
        random_state : int, default=0
        ax : matplotlib Axes, default=None

        Returns
        -------
        NeighbourPrecisionDisplay
        """
        from ..evaluation import neighbour_precision

        results = [
            neighbour_precision(embeddings, grouping, k=int(k), random_state=random_state)
            for k in ks
        ]
        return cls.from_results(results, name=name, n_bootstrap=n_bootstrap, ax=ax)

    def plot(self, ax=None):
        """Draw the curve, the baseline and the band on ``ax`` (new axes if None).

        Call it again with the same ``ax`` (or another display's ``ax_``) to compare
        embeddings on one figure.

        Returns
        -------
        NeighbourPrecisionDisplay
        """
        ax = axes(ax, type(self).__name__)
        label = self.name or "embedding"
        (self.line_,) = ax.plot(self.ks, self.precision, marker="o", label=label)
        color = self.line_.get_color()
        (self.baseline_line_,) = ax.plot(
            self.ks,
            self.baseline,
            linestyle="--",
            color=color,
            alpha=0.7,
            label=f"{label}: random, frequency-matched",
        )
        self.band_ = None
        if self.intervals is not None:
            self.band_ = ax.fill_between(
                self.ks, self.intervals[:, 0], self.intervals[:, 1], color=color, alpha=0.15
            )
        ax.set_xscale("log")
        ax.set_xticks(self.ks, [str(k) for k in self.ks])
        ax.minorticks_off()
        ax.set_xlabel("k (nearest neighbours)")
        ax.set_ylabel("neighbour precision")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8)
        self.ax_, self.figure_ = ax, ax.figure
        return self
