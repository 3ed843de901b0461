"""Machinery shared by the estimators that take patient timelines."""

import logging

import numpy as np

from ._progress import Progress
from ._timelines import as_timelines
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

    def _encoded_input(self, X):
        """``X`` encoded with the fitted vocabulary, cut at its prediction times.

        Timelines already encoded must carry the fitted codes; raw ones go through
        the vocabulary fitted by ``fit`` (``code_vocabulary_``).
        """
        name = type(self).__name__
        X = as_timelines(X)
        if X.is_encoded:
            if not np.array_equal(X.code_names, self.codes_):
                raise ValueError(
                    f"X was encoded with a different vocabulary than the one this {name} "
                    "was fitted with; encode it with the same CodeVocabulary."
                )
        elif self.code_vocabulary_ is not None:
            X = self.code_vocabulary_.transform(X)
        else:
            raise ValueError(
                f"this {name} was fitted on encoded timelines; pass X through the same "
                "CodeVocabulary (e.g. in a Pipeline) before it."
            )
        if X.n_events and self.time_kind_ is not None and X.time_kind != self.time_kind_:
            raise ValueError(
                f"X has {X.time_kind} times but the {name} was fitted on {self.time_kind_} times."
            )
        return X.up_to_prediction()

    def _report(self, message):
        """Log ``message``; print it as well when ``verbose`` is set."""
        Progress(None, "", verbose=self.verbose, name=type(self).__name__).report(message)

    def _progress(self, total, desc, unit="it"):
        """A :class:`~skmed2vec._progress.Progress` bar that follows ``verbose``."""
        return Progress(total, desc, verbose=self.verbose, name=type(self).__name__, unit=unit)
