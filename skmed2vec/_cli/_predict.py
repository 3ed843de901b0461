"""``skmed2vec predict``: the MEDS-DEV workflow, embedder label-free, then a linear model."""

import argparse
import logging

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from .._timelines import events_to_timelines
from ._errors import CommandError
from ._inputs import (
    add_labels_option,
    ids_as_in_events,
    label_values,
    read_events,
    read_labels,
    timeline_options,
)
from ._models import (
    add_estimator_options,
    build_pipeline,
    check_model_format,
    load_model,
    save_model,
)
from ._outputs import check_output
from ._transform import check_parquet, features_for_labels, write_parquet

__all__ = ["add_parser", "run"]

logger = logging.getLogger(__name__)

#: Columns of MEDS-DEV's prediction schema, in order.
PREDICTION_COLUMNS = [
    "subject_id",
    "prediction_time",
    "boolean_value",
    "predicted_boolean_probability",
    "predicted_boolean_value",
]


def add_parser(commands):
    parser = commands.add_parser(
        "predict",
        help="MEDS-DEV: fit on the train split, predict the labels of another split",
        description="Fit the embedder label-free on the train split of a MEDS folder (or "
        "take it from --model), fit a logistic regression on the train subjects' labels, "
        "and write predictions for the subjects of --split in the MEDS evaluation schema.",
    )
    group = parser.add_argument_group("input")
    group.add_argument("--meds", required=True, metavar="DIR", help="MEDS folder")
    group.add_argument("--split", default="held_out", help="split to predict (default held_out)")
    group.add_argument("--train-split", default="train", help="split to fit on (default train)")
    group.add_argument(
        "--static-events",
        choices=["first", "drop", "error"],
        default="first",
        help="rows without a time: at the subject's first event (default), left out, or an error",
    )
    group.add_argument(
        "--at-prediction-time",
        choices=["exclude", "include"],
        default="exclude",
        help="whether events at exactly a prediction time are used (default exclude)",
    )
    add_labels_option(parser)
    parser.add_argument(
        "--model",
        metavar="FILE",
        help="use this fitted embedder instead of fitting one on the train split",
    )
    parser.add_argument("--trust-pickle", action="store_true", help="allow a joblib --model")
    parser.add_argument(
        "--save-model", metavar="FILE", help="also write the embedder fitted here (skops)"
    )
    parser.add_argument(
        "--C", type=float, default=1.0, dest="C", help="inverse regularisation (default 1.0)"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=0.5,
        help="probability from which predicted_boolean_value is true (default 0.5)",
    )
    add_estimator_options(parser)
    parser.add_argument(
        "--output", "-o", required=True, metavar="FILE", help="predictions .parquet file"
    )
    parser.set_defaults(
        run=run, events=None, omop=None, omop_concepts=None, omop_schema=None, omop_tables=None
    )
    return parser


def _split_events(args, split):
    return read_events(argparse.Namespace(**{**vars(args), "split": split}))


def _split_labels(labels, events, args, split):
    """The label rows of a split's subjects, those without any event included."""
    ids = labels["subject_id"]
    keep = ids.isin(events["subject_id"].unique())
    if split != "all":
        from ..datasets._meds import split_subjects

        listed = split_subjects(args.meds, split)
        if ids.dtype.kind in "iu" and listed.dtype.kind in "iu" and listed.dtype != ids.dtype:
            # np.union1d of uint64 and int64 is float64, which loses ids above 2**53.
            limits = np.iinfo(ids.dtype)
            listed = listed[(listed >= limits.min) & (listed <= limits.max)].astype(ids.dtype)
        keep |= ids.isin(listed)
    return labels[keep]


def run(args):
    if not 0 <= args.threshold <= 1:
        raise CommandError(f"--threshold must be in [0, 1]; got {args.threshold}")
    check_output(args.output)
    check_parquet()
    if args.save_model:
        check_output(args.save_model, "--save-model")
        check_model_format("skops")
    args.subject_col, args.time_col, args.code_col = "subject_id", "time", "code"
    labels = read_labels(args.labels)
    if "boolean_value" not in labels.columns:
        raise CommandError(f"--labels {args.labels}: no column 'boolean_value' to learn from")
    labels["boolean_value"] = label_values(labels, args.labels)
    train_events = _split_events(args, args.train_split)
    target_events = _split_events(args, args.split)
    labels = ids_as_in_events(labels, train_events["subject_id"], args.labels)
    train_labels = _split_labels(labels, train_events, args, args.train_split)
    target_labels = _split_labels(labels, target_events, args, args.split)
    for part, split in (
        (train_labels, args.train_split),
        (target_labels, args.split),
    ):
        if len(part) == 0:
            raise CommandError(f"--labels: no label row for a subject of split {split!r}")
    missing = train_labels["boolean_value"].isna().to_numpy()
    if missing.any():
        first = train_labels["subject_id"].to_numpy()[missing][0]
        raise CommandError(
            f"--labels {args.labels}: {missing.sum()} label rows of split "
            f"{args.train_split!r} have no boolean_value (the first: subject_id {first}); "
            "fill them in or leave those rows out"
        )
    y = train_labels["boolean_value"].to_numpy(dtype=bool)
    if len(np.unique(y)) < 2:
        raise CommandError(
            f"--labels: the train split's labels are all {bool(y[0])}; need both classes"
        )
    if args.model:
        pipeline, embedder, _ = load_model(args)
    else:
        X, _ = events_to_timelines(train_events, **timeline_options(args))
        pipeline = build_pipeline(args, verbose=args.verbose).fit(X)
        embedder = pipeline.named_steps["embedder"]
        if args.save_model:
            save_model(args.save_model, pipeline, option="--save-model")
    train_labels = train_labels.reset_index(drop=True)
    target_labels = target_labels.reset_index(drop=True)
    X_train, _ = features_for_labels(pipeline, embedder, train_events, train_labels, args)
    X_target, _ = features_for_labels(pipeline, embedder, target_events, target_labels, args)
    classifier = LogisticRegression(C=args.C, max_iter=2000).fit(X_train, y)
    probability = classifier.predict_proba(X_target)[:, 1]
    predictions = pd.DataFrame(
        {
            # The events' ids (MEDS: int64), whatever a CSV label file held.
            "subject_id": target_labels["subject_id"].to_numpy(),
            "prediction_time": target_labels["prediction_time"].to_numpy(),
            "boolean_value": target_labels["boolean_value"].array,
            "predicted_boolean_probability": probability.astype(np.float64),
            "predicted_boolean_value": probability >= args.threshold,
        },
        columns=PREDICTION_COLUMNS,
    )
    write_parquet(predictions, args.output)
    logger.info(
        "train: %d label rows (%.1f%% true); %s: %d rows",
        len(train_labels),
        100 * y.mean(),
        args.split,
        len(predictions),
    )
    print(f"wrote {len(predictions)} predictions for split {args.split!r} to {args.output}")
    return 0
