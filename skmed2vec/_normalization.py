"""What code counts must share to be added: the vocabulary's code normalisation."""

__all__ = ["normalization_of"]


def normalization_of(vocabulary):
    """The normalisation settings of a CodeVocabulary, as strings (what counts must share)."""
    grouping = vocabulary.grouping
    if grouping is None or isinstance(grouping, str):
        grouping = "" if grouping is None else grouping
    elif isinstance(grouping, dict):
        import joblib

        grouping = "dict:" + joblib.hash(sorted(grouping.items()))
    else:
        grouping = "callable:" + _callable_key(grouping)
    return {"system": vocabulary.system or "", "grouping": grouping}


def _callable_key(function):
    """A grouping function's name and a digest of what it computes.

    The name alone would let two lambdas (``lambda c: c[:3]``, ``lambda c:
    c[:1]``) pass for one grouping. The digest covers the bytecode, constants,
    names, default values and closure values, not the file or line, so the
    same function defined on another machine gives the same key.
    """
    import hashlib

    name = getattr(function, "__qualname__", type(function).__qualname__)
    code = getattr(function, "__code__", None)
    if code is None:  # a callable object: its class and state
        return f"{name}:{_value_key(function)}"
    values = (function.__defaults__ or ()) + tuple(
        cell.cell_contents for cell in function.__closure__ or ()
    )
    parts = (_code_parts(code), tuple(_value_key(v) for v in values))
    return f"{name}:{hashlib.sha1(repr(parts).encode()).hexdigest()[:16]}"


def _value_key(value):
    """A digest of a value that is the same in every process (joblib's hash), or its
    type's name when it cannot be pickled."""
    import joblib

    try:
        return joblib.hash(value)
    except Exception:
        return type(value).__qualname__


def _code_parts(code):
    """Bytecode, names and constants of a code object, nested ones (comprehensions,
    inner functions) included, without their addresses, files or lines."""
    consts = tuple(_code_parts(c) if hasattr(c, "co_code") else c for c in code.co_consts)
    return code.co_code, code.co_names, consts
