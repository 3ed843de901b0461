"""Warnings that point at the user's line, however deep inside the package they arise."""

import sys
import warnings

__all__ = ["warn_caller"]

#: Packages whose frames are never the user's: this one, and scikit-learn's wrappers
#: (``_fit_context``, ``validate_params``) around its public methods.
_INTERNAL = ("skmed2vec", "sklearn")


def warn_caller(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside the package and scikit-learn.

    A fixed ``stacklevel`` would count the frames of scikit-learn's decorators,
    which change between its versions.
    """
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] in _INTERNAL:
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
