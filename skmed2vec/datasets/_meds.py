"""Reader for MEDS datasets: events of ``data/**/*.parquet``, code metadata, subject splits."""

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

__all__ = ["read_meds", "read_meds_codes"]

logger = logging.getLogger(__name__)

_EVENT_COLUMNS = ("subject_id", "time", "code")
_PATH = [str, os.PathLike]


def _pyarrow():
    try:
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("reading MEDS needs pyarrow: pip install 'skmed2vec[meds]'.") from None
    return ds, pq


def _meds_root(root):
    root = Path(root)
    if not (root / "data").is_dir():
        what = "" if root.is_dir() else " (a file)" if root.exists() else " (which does not exist)"
        raise FileNotFoundError(
            f"no data/ folder in {root}{what}: pass the root folder of a MEDS dataset "
            "(data/**/*.parquet, metadata/)."
        )
    return root


def _split_subjects(root, split, pq):
    file = root / "metadata" / "subject_splits.parquet"
    if not file.is_file():
        raise FileNotFoundError(
            f"split={split!r} needs {file}, which does not exist; pass split=None to read "
            "every subject."
        )
    splits = pq.read_table(file, columns=["subject_id", "split"]).to_pandas()
    wanted = [split] if isinstance(split, str) else list(split)
    unknown = sorted(set(wanted) - set(splits["split"].unique()))
    if unknown:
        raise ValueError(
            f"split {unknown[0]!r} is not in {file}; its splits are "
            f"{sorted(splits['split'].unique().tolist())}."
        )
    return splits.loc[splits["split"].isin(wanted), "subject_id"].to_numpy()


def split_subjects(root, split):
    """The subject ids of ``split`` (a name or a list of them) of a MEDS folder."""
    _, pq = _pyarrow()
    return _split_subjects(_meds_root(root), split, pq)


_KINDS = {"O": "text", "U": "text", "S": "text", "f": "floats"}


def check_split_ids(subjects, shard_type, root, file):
    """Refuse split ids of another kind (text, numbers) than a shard's subject ids."""
    import pyarrow as pa

    split_numeric = subjects.dtype.kind in "iu"
    if split_numeric != (pa.types.is_integer(shard_type)):
        raise ValueError(
            f"the subject ids of {root / 'metadata' / 'subject_splits.parquet'} are "
            f"{'integers' if split_numeric else _KINDS.get(subjects.dtype.kind, subjects.dtype)}"
            f", those of {file} are "
            f"{shard_type}; write both with the same type (MEDS: int64)."
        )


@validate_params(
    {"root": _PATH, "split": [str, list, tuple, None], "verbose": ["verbose"]},
    prefer_skip_nested_validation=True,
)
def read_meds(root, split=None, *, verbose=0):
    """Read the events of a MEDS dataset folder as one long table.

    Parameters
    ----------
    root : str or path-like
        The dataset's root folder, holding ``data/**/*.parquet`` (the event
        shards) and ``metadata/`` (``codes.parquet``,
        ``subject_splits.parquet``).
    split : str or list of str, default=None
        Read only the subjects of these splits (``"train"``, ``"tuning"``,
        ``"held_out"``...) of ``metadata/subject_splits.parquet``; None reads
        every subject.
    verbose : int, default=0
        Print the progress of the shards read.

    Returns
    -------
    events : pandas.DataFrame
        Columns ``subject_id``, ``time`` (datetime64; missing for static rows),
        ``code`` and ``numeric_value`` (float, missing where the row has
        none), in the order of the shards. Only these columns are read. Pass
        it to :func:`~skmed2vec.events_to_timelines`, whose
        ``static_events`` says what happens to the rows without a time.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``data/`` folder or no shard, or ``split`` is given
        without ``metadata/subject_splits.parquet``.
    ValueError
        If a shard lacks a MEDS column, or ``split`` names no split of the
        dataset.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skmed2vec import read_meds
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "data").mkdir()
    >>> pd.DataFrame({"subject_id": [1, 1, 2], "time": pd.to_datetime([None, "2020-01-01",
    ...     "2021-03-04"]), "code": ["SEX//F", "SNOMED/195662009", "LOINC/4548-4"],
    ...     "numeric_value": [None, None, 6.1]}).to_parquet(root / "data" / "0.parquet")
    >>> read_meds(root)["code"].tolist()
    ['SEX//F', 'SNOMED/195662009', 'LOINC/4548-4']
    """
    ds, pq = _pyarrow()
    root = _meds_root(root)
    files = sorted((root / "data").rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no parquet shard under {root / 'data'}.")
    subjects = None if split is None else _split_subjects(root, split, pq)
    parts = []
    n_events = 0
    for i, file in enumerate(files):
        names = pq.read_schema(file).names
        missing = [c for c in _EVENT_COLUMNS if c not in names]
        if missing:
            raise ValueError(
                f"{file} has no {missing[0]!r} column, which MEDS requires; its columns "
                f"are {names}."
            )
        columns = [*_EVENT_COLUMNS, *(["numeric_value"] if "numeric_value" in names else [])]
        shard = ds.dataset(file, format="parquet")
        if subjects is not None:
            check_split_ids(subjects, shard.schema.field("subject_id").type, root, file)
        filter_ = None if subjects is None else ds.field("subject_id").isin(subjects)
        table = shard.to_table(columns=columns, filter=filter_).to_pandas()
        if "numeric_value" not in table:
            table["numeric_value"] = np.nan
        parts.append(table)
        n_events += len(table)
        message = f"read_meds: shard {i + 1}/{len(files)} ({file.name}), {n_events:,} events"
        logger.info(message)
        if verbose:
            print(message)
    events = pd.concat(parts, ignore_index=True)
    events["numeric_value"] = events["numeric_value"].astype(np.float64)
    return events


@validate_params({"root": _PATH}, prefer_skip_nested_validation=True)
def read_meds_codes(root):
    """Read the code metadata of a MEDS dataset (``metadata/codes.parquet``).

    Parameters
    ----------
    root : str or path-like
        The dataset's root folder.

    Returns
    -------
    codes : pandas.DataFrame
        One row per code with columns ``code``, ``description`` and
        ``parent_codes`` (a list of parent codes, empty when there is none).
        The parents are a grouping and a fallback for unseen codes::

            parents = dict(zip(codes["code"], codes["parent_codes"]))
            CodeVocabulary(fallback_to_parent=parents)
            CodeVocabulary(grouping={c: p[0] for c, p in parents.items() if p})

    Raises
    ------
    FileNotFoundError
        If ``metadata/codes.parquet`` does not exist.
    ValueError
        If it has no ``code`` column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skmed2vec import read_meds_codes
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "metadata").mkdir()
    >>> pd.DataFrame({"code": ["ICD10CM//E1165", "ICD10CM//E11"],
    ...               "description": ["T2DM with hyperglycemia", "T2DM"],
    ...               "parent_codes": [["ICD10CM//E11"], None]}).to_parquet(
    ...     root / "metadata" / "codes.parquet")
    >>> read_meds_codes(root)["parent_codes"].tolist()
    [['ICD10CM//E11'], []]
    """
    _, pq = _pyarrow()
    file = Path(root) / "metadata" / "codes.parquet"
    if not file.is_file():
        raise FileNotFoundError(f"no {file}: a MEDS dataset keeps its code metadata there.")
    names = pq.read_schema(file).names
    if "code" not in names:
        raise ValueError(f"{file} has no 'code' column; its columns are {names}.")
    wanted = [c for c in ("code", "description", "parent_codes") if c in names]
    codes = pq.read_table(file, columns=wanted).to_pandas()
    if "description" not in codes:
        codes["description"] = None
    parents = codes["parent_codes"] if "parent_codes" in codes else pd.Series([None] * len(codes))
    codes["parent_codes"] = [
        [] if p is None or (np.ndim(p) == 0 and pd.isna(p)) else [str(c) for c in p]
        for p in parents
    ]
    return codes[["code", "description", "parent_codes"]]
