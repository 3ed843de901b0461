"""Parameter validation the scikit-learn way, with bools refused where numbers are expected."""

import functools
import inspect
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, InvalidParameterError
from sklearn.utils._param_validation import validate_params as _sklearn_validate_params

__all__ = ["N_JOBS", "check_no_bools", "validate_params"]

#: Constraints of ``n_jobs``: None, a positive count, or -1, -2... (all cores,
#: all but one...). Zero has no meaning to joblib, which would refuse it only
#: once a data set spans several chunks.
N_JOBS = [
    Interval(Integral, None, -1, closed="right"),
    Interval(Integral, 1, None, closed="left"),
    None,
]


def check_no_bools(constraints, values, owner):
    """Refuse ``True``/``False`` for parameters constrained to a numeric interval
    (or a seed).

    ``True`` is an ``Integral`` to Python, so ``k=True`` would otherwise pass
    scikit-learn's checks as 1.
    """
    for name, options in constraints.items():
        value = values.get(name)
        numeric = any(isinstance(c, Interval) or c == "random_state" for c in options)
        if isinstance(value, (bool, np.bool_)) and numeric:
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be a number, not a bool; got {value!r}."
            )


def validate_params(constraints, *, prefer_skip_nested_validation=True):
    """scikit-learn's ``validate_params``, plus :func:`check_no_bools`.

    Examples
    --------
    >>> from numbers import Integral
    >>> from sklearn.utils._param_validation import Interval
    >>> @validate_params({"k": [Interval(Integral, 1, None, closed="left")]})
    ... def top(k):
    ...     return k
    >>> top(3)
    3
    >>> top(True)
    Traceback (most recent call last):
    ...
    sklearn.utils._param_validation.InvalidParameterError: The 'k' parameter of top must be a number, not a bool; got True.
    """  # noqa: E501

    def decorate(func):
        checked = _sklearn_validate_params(
            constraints, prefer_skip_nested_validation=prefer_skip_nested_validation
        )(func)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs)
            check_no_bools(constraints, bound.arguments, func.__qualname__)
            return checked(*args, **kwargs)

        return wrapper

    return decorate
