"""Machinery shared by the estimators that take patient timelines."""

import logging

from sklearn.utils._param_validation import Interval, InvalidParameterError

__all__ = ["TimelineEstimatorMixin", "UNKNOWN"]

#: Token of the reserved index 0 that rare and unseen codes share.
UNKNOWN = "<UNK>"

logger = logging.getLogger("skmed2vec")


class TimelineEstimatorMixin:
    """Tags for estimators whose samples are patient timelines, not 2-D rows."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _validate_params(self):
        """scikit-learn's checks, and no bools where a number is expected.

        ``True`` is an ``Integral`` to Python, so ``embed_dim=True`` would
        otherwise pass as 1.
        """
        super()._validate_params()
        for name, constraints in self._parameter_constraints.items():
            value = getattr(self, name)
            if isinstance(value, bool) and any(isinstance(c, Interval) for c in constraints):
                raise InvalidParameterError(
                    f"The {name!r} parameter of {type(self).__name__} must be a number, "
                    f"not a bool; got {value!r}."
                )

    def _report(self, message):
        """Log ``message``; print it as well when ``verbose`` is set."""
        logger.info(message)
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)
