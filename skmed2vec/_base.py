"""Machinery shared by the estimators that take patient timelines."""

import logging

from ._validation import check_no_bools

__all__ = ["TimelineEstimatorMixin", "UNKNOWN"]

#: Token of the reserved index 0 that rare and unseen codes share.
UNKNOWN = "<UNK>"

logger = logging.getLogger(__name__)


class TimelineEstimatorMixin:
    """Tags for estimators whose samples are patient timelines, not 2-D rows."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _validate_params(self):
        """scikit-learn's checks, and no bools where a number is expected."""
        super()._validate_params()
        check_no_bools(
            self._parameter_constraints, self.get_params(deep=False), type(self).__name__
        )

    def _report(self, message):
        """Log ``message``; print it as well when ``verbose`` is set."""
        logger.info(message)
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)
