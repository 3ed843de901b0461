"""Machinery shared by the estimators that take patient timelines."""

import logging

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

    def _report(self, message):
        """Log ``message``; print it as well when ``verbose`` is set."""
        logger.info(message)
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)
