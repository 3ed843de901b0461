"""``skmed2vec transform``: one feature row per label row, written as parquet."""

import numpy as np
import pandas as pd

from .._io import atomic_open
from ._errors import CommandError
from ._inputs import (
    add_input_options,
    add_labels_option,
    ids_as_in_events,
    read_events,
    read_labels,
    timelines_for_labels,
)
from ._models import add_model_option, load_model
from ._outputs import check_output

__all__ = ["add_parser", "check_parquet", "features_for_labels", "run", "write_parquet"]


def add_parser(commands):
    parser = commands.add_parser(
        "transform",
        help="patient features at each label's prediction time, as parquet",
        description="Build one feature row per row of a MEDS label file (subject_id, "
        "prediction_time) from the subject's events up to its prediction time.",
    )
    add_model_option(parser)
    add_input_options(parser, split_default="all")
    add_labels_option(parser)
    parser.add_argument(
        "--output", "-o", required=True, metavar="FILE", help="features .parquet file"
    )
    parser.set_defaults(run=run)
    return parser


def features_for_labels(pipeline, embedder, events, labels, args):
    """Feature matrix (one row per label row) and its column names."""
    X, rows = timelines_for_labels(events, labels, args)
    names = [str(n) for n in embedder.get_feature_names_out()]
    features = np.zeros((len(labels), len(names)), dtype=np.float32)
    if len(rows):
        features[rows] = pipeline.transform(X)
    return features, names


def check_parquet(option="--output"):
    """Refuse, before any work, to run a command whose parquet output cannot be written."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise CommandError(
            f"{option}: writing parquet needs pyarrow: pip install 'skmed2vec[meds]'"
        ) from None


def write_parquet(frame, path, option="--output"):
    """Write a DataFrame as parquet, atomically."""
    check_parquet(option)
    with atomic_open(path, "wb") as handle:
        frame.to_parquet(handle, index=False)


def run(args):
    check_output(args.output)
    check_parquet()
    pipeline, embedder, _ = load_model(args)
    labels = read_labels(args.labels)
    typed_ids = labels["subject_id"].to_numpy()
    events = read_events(args)
    labels = ids_as_in_events(labels, events[args.subject_col], args.labels)
    # Numbers stay as the label file has them (text events must not turn them into
    # text); text ids (CSV) are written as they joined the events.
    if pd.api.types.is_numeric_dtype(typed_ids):
        written_ids = typed_ids
    else:
        written_ids = labels["subject_id"].to_numpy()
    features, names = features_for_labels(pipeline, embedder, events, labels, args)
    frame = pd.DataFrame(features, columns=names)
    frame.insert(0, "prediction_time", labels["prediction_time"].to_numpy())
    frame.insert(0, "subject_id", written_ids)
    write_parquet(frame, args.output)
    print(f"wrote {len(frame)} rows x {len(names)} features to {args.output}")
    return 0
