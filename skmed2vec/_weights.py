"""Temporal weights: the one formula for how much two events ``dt`` days apart count."""

import numpy as np

__all__ = ["temporal_weight"]


def temporal_weight(gaps, time_decay):
    """Weight of events ``gaps`` days apart: ``exp(-time_decay * |gap|)``.

    Training pairs, softmax windows and recency-weighted features all use this
    function. Underflows to 0 for huge gaps; never NaN for finite input.

    Examples
    --------
    >>> import numpy as np
    >>> temporal_weight(np.array([0.0, -10.0, 1e6]), 0.1).round(4).tolist()
    [1.0, 0.3679, 0.0]
    """
    return np.exp(-float(time_decay) * np.abs(gaps))
