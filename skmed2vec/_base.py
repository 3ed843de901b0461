"""Machinery shared by the estimators that take patient timelines."""

import logging

from ._progress import Progress
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
        Progress(None, "", verbose=self.verbose, name=type(self).__name__).report(message)

    def _progress(self, total, desc, unit="it"):
        """A :class:`~skmed2vec._progress.Progress` bar that follows ``verbose``."""
        return Progress(total, desc, verbose=self.verbose, name=type(self).__name__, unit=unit)
