"""Plots of code embeddings in scikit-learn's Display style (needs ``skmed2vec[plot]``).

Each Display is built with a ``from_*`` constructor, draws with ``plot(ax=None)`` and
keeps ``figure_`` and ``ax_``; matplotlib is imported only when a plot is drawn.
"""

from ._code_map import CodeMapDisplay
from ._neighbours import NeighbourPrecisionDisplay
from ._tuning import TuningCurveDisplay

__all__ = ["CodeMapDisplay", "NeighbourPrecisionDisplay", "TuningCurveDisplay"]
