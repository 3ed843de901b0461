"""Code vectors to and from files other tools read: word2vec, safetensors, parquet, projector.

Every writer is atomic (a temporary file beside the target, then a rename), so an
interrupted export never leaves a truncated file.

Codes containing whitespace cannot be written as such in word2vec files (a space ends
the word) or in tab-separated files. They are percent-escaped, as in URLs: ``%`` and
each whitespace character become ``%`` followed by the two hex digits of each of their
UTF-8 bytes (``"aspirin 81 MG"`` → ``"aspirin%2081%20MG"``, ``"50%"`` → ``"50%25"``).
Escaping ``%`` itself makes the rule reversible; the readers undo it.
"""

import json
import re
from collections import namedtuple
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import atomic_open, atomic_write_bytes

__all__ = [
    "FORMATS",
    "CodeVectors",
    "escape_code",
    "load_vectors",
    "load_word2vec_format",
    "save_vectors",
    "unescape_code",
]

#: Formats of :func:`save_vectors` and :func:`load_vectors`.
FORMATS = ("word2vec", "word2vec-binary", "safetensors", "parquet", "projector")

#: File names of the TensorBoard projector pair, inside the folder given as path.
PROJECTOR_FILES = ("vectors.tsv", "metadata.tsv")

_SUFFIXES = {
    ".txt": "word2vec",
    ".vec": "word2vec",
    ".bin": "word2vec-binary",
    ".safetensors": "safetensors",
    ".parquet": "parquet",
}

CodeVectors = namedtuple("CodeVectors", ["codes", "vectors", "counts", "metadata"])
CodeVectors.__doc__ = """Code vectors read from a file.

Attributes
----------
codes : ndarray of str of shape (n_codes,)
vectors : ndarray of float32 of shape (n_codes, n_dims)
counts : ndarray of int64 of shape (n_codes,) or None
    Training events per code, where the format stores them.
metadata : dict of str to list
    Other per-code columns the file carried (``group``, ``description``).
"""

# Lone surrogates (from bytes decoded with "surrogateescape") have no UTF-8 form:
# escaped as their three-byte "surrogatepass" sequence, so files stay UTF-8.
_SURROGATES = "\ud800-\udfff"
_ESCAPE_WORD = re.compile(rf"[%\s{_SURROGATES}]")
_ESCAPE_FIELD = re.compile(rf"[%\t\n\r{_SURROGATES}]")
_SURROGATE = re.compile(f"[{_SURROGATES}]")


def _percent(match):
    return "".join(f"%{byte:02X}" for byte in match.group().encode("utf-8", "surrogatepass"))


def escape_code(code):
    """Percent-escape ``%`` and whitespace in a code, so it is one word-format token.

    Parameters
    ----------
    code : str

    Returns
    -------
    str
        The code with ``%``, spaces and other whitespace written ``%XX`` (UTF-8),
        and lone surrogates (which have no UTF-8 form) as the ``%XX`` of their
        three bytes, so the result is one token of valid UTF-8 text.

    Examples
    --------
    >>> from skmed2vec import escape_code, unescape_code
    >>> escape_code("MEDICATION//aspirin 81 MG")
    'MEDICATION//aspirin%2081%20MG'
    >>> unescape_code(escape_code("O2 sat 95%"))
    'O2 sat 95%'
    """
    return _ESCAPE_WORD.sub(_percent, code)


def unescape_code(code):
    """Undo :func:`escape_code`.

    A code with a ``%`` not followed by two hex digits, or whose ``%XX``
    sequences are not UTF-8 (``LAB//%CD4+`` from a tool that does not escape),
    was not escaped: it is returned as it is.

    Parameters
    ----------
    code : str

    Returns
    -------
    str
    """
    if "%" not in code or re.search(r"%(?![0-9A-Fa-f]{2})", code):
        return code  # escaped codes have no other "%" (it is written %25)
    data = bytearray()
    # re.split with a group: text at even positions, the %XX sequences at odd ones.
    for i, piece in enumerate(re.split(r"(%[0-9A-Fa-f]{2})", code)):
        if i % 2:
            data.append(int(piece[1:], 16))
        else:
            data.extend(piece.encode("utf-8", "surrogatepass"))
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return code


def _escape_field(value):
    return _ESCAPE_FIELD.sub(_percent, str(value))


def _check_arrays(codes, vectors, counts, columns):
    codes = np.asarray([str(c) for c in codes], dtype=object)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(codes):
        raise ValueError(
            f"vectors must have shape (n_codes, n_dims) = ({len(codes)}, n_dims); "
            f"got {vectors.shape}."
        )
    if len(set(codes.tolist())) != len(codes):
        raise ValueError("codes must be distinct; got repeated codes.")
    if counts is not None:
        counts = np.asarray(counts, dtype=np.int64)
        if counts.shape != codes.shape:
            raise ValueError(f"counts must have one value per code; got shape {counts.shape}.")
    metadata = {}
    for name, values in (columns or {}).items():
        if values is None:
            continue
        if isinstance(values, dict):
            values = [values.get(c) for c in codes.tolist()]
        values = list(values)
        if len(values) != len(codes):
            raise ValueError(f"{name} must have one value per code; got {len(values)} values.")
        metadata[name] = ["" if v is None or v != v else str(v) for v in values]
    return codes, vectors, counts, metadata


def _check_utf8(values, what, format):
    """Refuse text with lone surrogates where a format stores it verbatim as UTF-8."""
    bad = [v for v in values if isinstance(v, str) and _SURROGATE.search(v)]
    if bad:
        raise ValueError(
            f"{what} with lone surrogates (no UTF-8 form) cannot be stored verbatim by "
            f"format={format!r}: {bad[:3]}; the escaping formats (word2vec with "
            f"escape=True, projector) percent-escape them."
        )


def _word2vec_tokens(codes, escape, format):
    if escape:
        return [escape_code(c) for c in codes]
    _check_utf8(codes, "codes", format)
    bad = [c for c in codes if re.search(r"\s", c)]
    if bad:
        raise ValueError(
            f"codes containing whitespace cannot be written in word2vec format unescaped: "
            f"{bad[:3]}; pass escape=True to percent-escape them."
        )
    return list(codes)


def save_vectors(
    path,
    codes,
    vectors,
    *,
    format="word2vec",
    counts=None,
    groups=None,
    descriptions=None,
    escape=True,
):
    """Write code vectors in a format other tools read, atomically.

    Parameters
    ----------
    path : str or path-like
        The file; for ``"projector"`` a folder, where ``vectors.tsv`` and
        ``metadata.tsv`` are written (it is created if needed).
    codes : sequence of str
    vectors : array-like of shape (n_codes, n_dims)
    format : {"word2vec", "word2vec-binary", "safetensors", "parquet", "projector"}
        - ``"word2vec"``, ``"word2vec-binary"``: the word2vec C tool's text and binary
          formats (gensim's ``KeyedVectors.load_word2vec_format(path, binary=...)``).
        - ``"safetensors"``: tensors ``vectors`` (float32) and ``counts`` (int64); the
          codes (JSON list) and other columns in the header metadata.
        - ``"parquet"``: columns ``code`` (string), ``count`` (int64) and ``vector``
          (list<float32>), plus ``group`` and ``description`` when given.
        - ``"projector"``: TensorBoard Embedding Projector's tab-separated pair.
    counts : array-like of int, default=None
        Training events per code (written by every format but word2vec).
    groups, descriptions : dict or sequence of str, default=None
        Per-code labels (dict by code, or one value per code) written as metadata
        by the safetensors, parquet and projector formats.
    escape : bool, default=True
        Percent-escape ``%`` and whitespace in word2vec codes (see the module notes);
        with ``False``, a code containing whitespace is an error. Tab-separated
        fields always escape ``%``, tabs and line breaks.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}.")
    codes, vectors, counts, metadata = _check_arrays(
        codes, vectors, counts, {"group": groups, "description": descriptions}
    )
    path = Path(path)
    if format in ("safetensors", "parquet"):
        _check_utf8(codes.tolist(), "codes", format)
        for name, values in metadata.items():
            _check_utf8(values, f"{name}s", format)
    if format == "word2vec":
        tokens = _word2vec_tokens(codes.tolist(), escape, format)
        with atomic_open(path, "w", encoding="utf-8") as handle:
            handle.write(f"{len(tokens)} {vectors.shape[1]}\n")
            for token, row in zip(tokens, vectors):
                handle.write(token + " " + " ".join(repr(float(v)) for v in row) + "\n")
        return [path]
    if format == "word2vec-binary":
        tokens = _word2vec_tokens(codes.tolist(), escape, format)
        little = vectors.astype("<f4", copy=False)
        with atomic_open(path, "wb") as handle:
            handle.write(f"{len(tokens)} {vectors.shape[1]}\n".encode())
            for token, row in zip(tokens, little):
                handle.write(token.encode("utf-8") + b" " + row.tobytes() + b"\n")
        return [path]
    if format == "safetensors":
        from safetensors.numpy import save

        tensors = {"vectors": np.ascontiguousarray(vectors)}
        if counts is not None:
            tensors["counts"] = counts
        header = {"format": "skmed2vec", "codes": json.dumps(codes.tolist(), ensure_ascii=False)}
        header.update({name: json.dumps(v, ensure_ascii=False) for name, v in metadata.items()})
        atomic_write_bytes(path, save(tensors, metadata=header))
        return [path]
    if format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = pa.array(vectors.reshape(-1), type=pa.float32())
        offsets = pa.array(np.arange(0, vectors.size + 1, vectors.shape[1]), type=pa.int32())
        columns = {
            "code": pa.array(codes.tolist(), type=pa.string()),
            "count": pa.array(counts, type=pa.int64()) if counts is not None else None,
            "vector": pa.ListArray.from_arrays(offsets, flat),
        }
        columns.update({n: pa.array(v, type=pa.string()) for n, v in metadata.items()})
        table = pa.table({n: c for n, c in columns.items() if c is not None})
        with atomic_open(path, "wb") as handle:
            pq.write_table(table, handle)
        return [path]
    # projector
    path.mkdir(parents=True, exist_ok=True)
    vectors_file, metadata_file = (path / name for name in PROJECTOR_FILES)
    with atomic_open(vectors_file, "w", encoding="utf-8") as handle:
        for row in vectors:
            handle.write("\t".join(repr(float(v)) for v in row) + "\n")
    names = ["code"] + (["count"] if counts is not None else []) + list(metadata)
    with atomic_open(metadata_file, "w", encoding="utf-8") as handle:
        if len(names) > 1:  # the Projector reads a single column as labels without a header
            handle.write("\t".join(names) + "\n")
        for i, code in enumerate(codes.tolist()):
            fields = [code] + ([counts[i]] if counts is not None else [])
            fields += [metadata[name][i] for name in metadata]
            handle.write("\t".join(_escape_field(f) for f in fields) + "\n")
    return [vectors_file, metadata_file]


def _infer_format(path):
    path = Path(path)
    if path.is_dir():
        return "projector"
    if path.suffix.lower() in _SUFFIXES:
        return _SUFFIXES[path.suffix.lower()]
    raise ValueError(
        f"cannot tell the format of {str(path)!r} from its name; pass format= one of "
        f"{', '.join(FORMATS)}."
    )


def _read_word2vec_text(path):
    with open(path, encoding="utf-8") as handle:
        header = handle.readline().split()
        n_codes, n_dims = int(header[0]), int(header[1])
        codes, rows = [], []
        for number, line in enumerate(handle, start=2):
            parts = line.rstrip("\n").rstrip(" ").split(" ")
            if len(parts) != n_dims + 1:
                raise ValueError(
                    f"{path}, line {number}: expected a code and {n_dims} numbers, "
                    f"got {len(parts)} fields."
                )
            codes.append(parts[0])
            rows.append(np.asarray(parts[1:], dtype=np.float32))
    if len(codes) != n_codes:
        raise ValueError(
            f"{path}: the header announces {n_codes} codes, the file has {len(codes)}."
        )
    vectors = np.vstack(rows) if rows else np.zeros((0, n_dims), np.float32)
    return codes, vectors


def _read_word2vec_binary(path):
    data = Path(path).read_bytes()
    end = data.index(b"\n")
    n_codes, n_dims = (int(x) for x in data[:end].split())
    width = 4 * n_dims
    codes = []
    vectors = np.empty((n_codes, n_dims), np.float32)
    start = end + 1
    for i in range(n_codes):
        space = data.find(b" ", start)
        if space < 0 or space + 1 + width > len(data):
            raise ValueError(f"{path}: truncated after {i} of {n_codes} codes.")
        codes.append(data[start:space].decode("utf-8").lstrip("\n"))
        vectors[i] = np.frombuffer(data, dtype="<f4", count=n_dims, offset=space + 1)
        start = space + 1 + width
    return codes, vectors


def load_vectors(path, *, format=None, unescape=True):
    """Read code vectors written by :func:`save_vectors` (or by another word2vec tool).

    Parameters
    ----------
    path : str or path-like
        A file, or for ``"projector"`` the folder holding ``vectors.tsv`` and
        ``metadata.tsv``.
    format : {"word2vec", "word2vec-binary", "safetensors", "parquet", "projector"}, \
default=None
        Inferred from the name when None: a folder is ``"projector"``; ``.txt``,
        ``.vec`` word2vec text; ``.bin`` word2vec binary; ``.safetensors``; ``.parquet``.
    unescape : bool, default=True
        Undo the percent-escaping of codes in word2vec and tab-separated files.

    Returns
    -------
    CodeVectors
        Named tuple ``(codes, vectors, counts, metadata)``.
    """
    format = _infer_format(path) if format is None else format
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}; got {format!r}.")
    path = Path(path)
    counts, metadata = None, {}
    if format == "word2vec":
        codes, vectors = _read_word2vec_text(path)
    elif format == "word2vec-binary":
        codes, vectors = _read_word2vec_binary(path)
    elif format == "safetensors":
        from safetensors import safe_open
        from safetensors.numpy import load_file

        tensors = load_file(path)
        with safe_open(path, framework="numpy") as handle:
            header = handle.metadata() or {}
        if "codes" not in header:
            raise ValueError(f"{path}: no 'codes' in the safetensors metadata.")
        codes = json.loads(header["codes"])
        vectors = tensors["vectors"].astype(np.float32, copy=False)
        counts = tensors.get("counts")
        metadata = {k: json.loads(v) for k, v in header.items() if k not in {"codes", "format"}}
        unescape = False
    elif format == "parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        codes = table.column("code").to_pylist()
        column = table.column("vector").combine_chunks()
        n_dims = len(column[0]) if len(column) else 0
        vectors = column.flatten().to_numpy().astype(np.float32).reshape(len(codes), n_dims)
        if "count" in table.column_names:
            counts = table.column("count").to_numpy().astype(np.int64)
        metadata = {
            n: table.column(n).to_pylist()
            for n in table.column_names
            if n not in {"code", "count", "vector"}
        }
        unescape = False
    else:
        vectors_file, metadata_file = (path / name for name in PROJECTOR_FILES)
        vectors = np.loadtxt(vectors_file, delimiter="\t", dtype=np.float32, ndmin=2)
        with open(metadata_file, encoding="utf-8") as handle:
            rows = [line.rstrip("\n").split("\t") for line in handle]
        if len(rows) == len(vectors):  # one column, no header
            names = ["code"]
        else:
            names, rows = rows[0], rows[1:]
        columns = {n: [unescape_code(r[i]) for r in rows] for i, n in enumerate(names)}
        codes = columns.pop("code")
        if "count" in columns:
            counts = np.asarray(columns.pop("count"), dtype=np.int64)
        metadata = columns
        unescape = False
    if unescape:
        codes = [unescape_code(c) for c in codes]
    return CodeVectors(np.asarray(codes, dtype=object), vectors, counts, metadata)


def load_word2vec_format(path, *, binary=False, unescape=True):
    """Read a word2vec text or binary file into a DataFrame indexed by code.

    Reads what :meth:`TemporalMed2VecEmbedder.save_word2vec_format`, gensim or the
    word2vec C tool wrote. The frame has the shape of
    :meth:`TemporalMed2VecEmbedder.to_frame`, and the evaluation functions accept it.

    Parameters
    ----------
    path : str or path-like
    binary : bool, default=False
        The binary format instead of text.
    unescape : bool, default=True
        Undo the percent-escaping of ``%`` and whitespace in codes.

    Returns
    -------
    pandas.DataFrame of shape (n_codes, n_dims), float32, indexed by code

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmed2vec import load_word2vec_format, save_vectors
    >>> path = os.path.join(tempfile.mkdtemp(), "vectors.txt")
    >>> _ = save_vectors(path, ["E11 9", "I10"], np.eye(2))
    >>> load_word2vec_format(path).index.tolist()
    ['E11 9', 'I10']
    """
    read = load_vectors(path, format="word2vec-binary" if binary else "word2vec", unescape=unescape)
    return pd.DataFrame(read.vectors, index=pd.Index(read.codes, name="code"))
