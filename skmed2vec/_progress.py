"""Progress for long work: a tqdm bar and printed messages under ``verbose``, logs always.

Messages go to the ``skmed2vec._progress`` logger (under ``skmed2vec``) at INFO level
whatever ``verbose`` is (attach a handler to see them); with ``verbose >= 1`` they are
also printed to standard output and long loops show a tqdm progress bar on standard
error. At ``verbose=0`` nothing is printed. Without tqdm installed, the messages are
printed and no bar is drawn.
"""

import logging
import sys

__all__ = ["Progress", "progress"]

logger = logging.getLogger(__name__)


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a missing bar must not stop a fit
        return None
    return tqdm


class Progress:
    """A progress bar of ``total`` steps that also prints and logs messages.

    Use as a context manager; :meth:`step` advances the bar by one step with an
    optional message, :meth:`report` prints and logs a message without advancing.

    Parameters
    ----------
    total : int or None
        Steps expected; None for an open-ended count.
    desc : str
        Label of the bar.
    verbose : int
        0: log only; 1 or more: print messages and draw the bar.
    name : str, default=""
        Prefix of printed messages, e.g. the estimator's class name.
    unit : str, default="it"

    Examples
    --------
    >>> with Progress(3, "epochs", verbose=0) as bar:
    ...     for epoch in range(3):
    ...         bar.step(f"epoch {epoch + 1}/3")
    >>> bar.n
    3
    """

    def __init__(self, total, desc, *, verbose=0, name="", unit="it"):
        self.total, self.desc, self.verbose, self.name, self.unit = (
            total,
            desc,
            verbose,
            name,
            unit,
        )
        self.n = 0
        self._bar = None

    def __enter__(self):
        tqdm = _tqdm() if self.verbose else None
        if tqdm is not None:
            self._bar = tqdm(
                total=self.total,
                desc=self.desc,
                unit=self.unit,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )
        return self

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return False

    def report(self, message):
        """Log ``message``; print it too when ``verbose`` is set."""
        logger.info("%s", message)
        if not self.verbose:
            return
        text = f"[{self.name}] {message}" if self.name else message
        if self._bar is not None:
            self._bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def step(self, message=None, n=1):
        """Advance by ``n`` steps, reporting ``message`` if given."""
        self.n += n
        if message is not None:
            self.report(message)
        if self._bar is not None:
            self._bar.update(n)


def progress(iterable, desc, *, total=None, verbose=0, unit="it"):
    """Iterate over ``iterable`` with a bar when ``verbose`` is set.

    Examples
    --------
    >>> list(progress(range(3), "files"))
    [0, 1, 2]
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    with Progress(total, desc, verbose=verbose, unit=unit) as bar:
        for item in iterable:
            yield item
            bar.step()
