"""CodeMapDisplay: code vectors projected to 2-D, coloured by a grouping."""

import numpy as np

from .._base import UNKNOWN
from ._base import axes

__all__ = ["CodeMapDisplay"]

_METHODS = ("pca", "tsne")


def _project(vectors, method, random_state):
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(vectors)
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(vectors) - 1) / 3)))
    return TSNE(
        n_components=2, perplexity=perplexity, init="pca", random_state=random_state
    ).fit_transform(vectors)


class CodeMapDisplay:
    """Map of the codes: their vectors projected to two dimensions.

    Build it with :meth:`from_estimator` or :meth:`from_vectors`, which project and
    plot; the constructor only stores.

    Parameters
    ----------
    coordinates : ndarray of shape (n_codes, 2)
    codes : ndarray of str of shape (n_codes,)
    groups : ndarray of str of shape (n_codes,) or None
        Group of each code (``""`` for none), one colour per group.
    label_codes : list of str or None
        Codes written next to their point.
    method : str
        How ``coordinates`` were made, for the axis labels.

    Attributes
    ----------
    scatters_ : dict of str to matplotlib PathCollection
        One scatter per group (``"other"`` for codes without one).
    annotations_ : list of matplotlib Text
        The labels of ``label_codes``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmed2vec import TemporalMed2VecEmbedder
    >>> from skmed2vec.datasets import make_cohort
    >>> from skmed2vec.plotting import CodeMapDisplay
    >>> cohort = make_cohort(100, random_state=0)
    >>> embedder = TemporalMed2VecEmbedder(embed_dim=8, epochs=1, random_state=0)
    >>> display = CodeMapDisplay.from_estimator(embedder.fit(cohort.X), groups=cohort.groups)
    >>> sorted(display.scatters_)[:2]
    ['C50', 'E11']
    """

    def __init__(self, coordinates, codes, *, groups=None, label_codes=None, method="pca"):
        self.coordinates = coordinates
        self.codes = codes
        self.groups = groups
        self.label_codes = label_codes
        self.method = method

    @classmethod
    def from_vectors(
        cls,
        vectors,
        codes,
        *,
        groups=None,
        label_codes=None,
        method="pca",
        show_ungrouped=True,
        random_state=0,
        ax=None,
        **kwargs,
    ):
        """Project ``vectors`` (one row per code) and plot them.

        Parameters
        ----------
        vectors : array-like of shape (n_codes, n_dims)
        codes : sequence of str
        groups : mapping or callable, default=None
            Group of a code (e.g. ICD-10 chapter, Synthea module, MEDS parent): a dict
            or pandas Series by code, or a function of the code. Labels are drawn
            as text (``0`` is a group); a set of groups (a code in several Synthea
            modules) counts as its first in sorted order; codes without a group
            (absent, None or NaN) are drawn grey.
        label_codes : sequence of str, default=None
            Codes to label on the map.
        method : {"pca", "tsne"}, default="pca"
            scikit-learn's ``PCA`` or ``TSNE``.
        show_ungrouped : bool, default=True
            Whether codes without a group are drawn.
        random_state : int, default=0
        ax : matplotlib Axes, default=None
        **kwargs
            Passed to ``ax.scatter``.

        Returns
        -------
        CodeMapDisplay
        """
        if method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {method!r}.")
        codes = np.asarray([str(c) for c in codes], dtype=object)
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or len(vectors) != len(codes):
            raise ValueError(
                f"vectors must have one row per code ({len(codes)}); got shape {vectors.shape}."
            )
        keep = codes != UNKNOWN
        group_of = groups if callable(groups) else ({} if groups is None else groups).get
        labels = np.asarray([_label(group_of(c)) for c in codes], dtype=object)
        if not show_ungrouped:
            keep &= labels != ""
        if keep.sum() < 3:
            raise ValueError(f"a code map needs at least 3 codes; got {int(keep.sum())}.")
        missing = [c for c in label_codes or [] if c not in set(codes[keep].tolist())]
        if missing:
            raise ValueError(f"label_codes not among the mapped codes: {missing[:5]}.")
        coordinates = _project(vectors[keep], method, random_state)
        display = cls(
            coordinates,
            codes[keep],
            groups=labels[keep] if groups is not None else None,
            label_codes=list(label_codes or []),
            method=method,
        )
        return display.plot(ax=ax, **kwargs)

    @classmethod
    def from_estimator(cls, estimator, **kwargs):
        """Plot the code vectors of a fitted ``TemporalMed2VecEmbedder``.

        Parameters
        ----------
        estimator : TemporalMed2VecEmbedder
            Fitted; ``<UNK>`` is left out.
        **kwargs
            As :meth:`from_vectors`.

        Returns
        -------
        CodeMapDisplay
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(estimator, "code_vectors_")
        return cls.from_vectors(estimator.code_vectors_, estimator.codes_, **kwargs)

    def plot(self, ax=None, **kwargs):
        """Draw the map on ``ax`` (a new figure's axes if None).

        Returns
        -------
        CodeMapDisplay
        """
        ax = axes(ax, type(self).__name__)
        groups = (
            np.asarray(self.groups, dtype=object)
            if self.groups is not None
            else np.full(len(self.codes), "", dtype=object)
        )
        named = sorted(set(groups.tolist()) - {""})
        palette = _palette(len(named))
        if len(named) > len(palette):  # the largest groups get a colour, the rest grey
            size = {name: int((groups == name).sum()) for name in named}
            named = sorted(sorted(named, key=lambda n: (-size[n], n))[: len(palette)])
            groups = np.where(np.isin(groups, named), groups, "").astype(object)
        self.scatters_ = {}
        for i, name in enumerate(named + ([""] if (groups == "").any() else [])):
            rows = groups == name
            style = {"s": 18, "alpha": 0.85, **kwargs}
            if name:
                color = palette[i % len(palette)]
            else:
                color = "0.75" if named else "C0"
            self.scatters_[name or "other"] = ax.scatter(
                self.coordinates[rows, 0],
                self.coordinates[rows, 1],
                color=color,
                label=name or "other",
                **style,
            )
        position = {c: i for i, c in enumerate(self.codes.tolist())}
        self.annotations_ = [
            ax.annotate(
                code,
                self.coordinates[position[code]],
                xytext=(3, 3),
                textcoords="offset points",
                fontsize=8,
            )
            for code in self.label_codes or []
        ]
        name = {"pca": "PCA", "tsne": "t-SNE"}[self.method]
        ax.set_xlabel(f"{name} 1")
        ax.set_ylabel(f"{name} 2")
        ax.set_title(f"{len(self.codes)} codes")
        if named:
            ax.legend(fontsize=7, markerscale=1.2, loc="best", ncols=1 + len(named) // 12)
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _label(value):
    """A code's group as drawn: text, ``""`` for none, the first of a set of groups."""
    if isinstance(value, (set, frozenset, list, tuple)) or (
        isinstance(value, np.ndarray) and value.ndim == 1
    ):
        members = sorted(str(v) for v in value if not _missing(v))
        return members[0] if members else ""
    return "" if _missing(value) else str(value)


def _missing(value):
    """None, NaN, pandas' NA or NaT, or an empty string: no group."""
    import pandas as pd

    if np.ndim(value) != 0:
        return False  # a sequence as one group, drawn as its text
    return value is None or bool(pd.isna(value)) or (isinstance(value, str) and value == "")


def _palette(n_groups):
    """Distinct colours for ``n_groups`` groups: tab10, tab20, then tab20 + tab20b + tab20c.

    Their greys are left out: grey marks the codes outside every group.
    """
    import matplotlib as mpl

    names = ["tab10"] if n_groups <= 9 else ["tab20"] if n_groups <= 18 else [
        "tab20", "tab20b", "tab20c"
    ]  # fmt: skip
    colours = [c for name in names for c in mpl.colormaps[name].colors]
    return [c for c in colours if len(set(np.round(c[:3], 3))) > 1]
