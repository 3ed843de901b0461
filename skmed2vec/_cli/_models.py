"""Estimator options of ``fit``, and model files: skops by default, pickle only if trusted."""

import logging
from pathlib import Path

from sklearn.pipeline import Pipeline

from .._embedder import TemporalMed2VecEmbedder
from .._io import atomic_open
from .._vocabulary import CodeVocabulary
from ._errors import CommandError
from ._outputs import check_output

__all__ = [
    "TRUSTED_TYPES",
    "add_estimator_options",
    "add_model_option",
    "build_pipeline",
    "load_model",
    "option_for",
    "save_model",
]

logger = logging.getLogger(__name__)

#: The only types of this package a model file needs; skops trusts numpy, dicts,
#: scikit-learn's Pipeline and linear models by itself.
TRUSTED_TYPES = [
    "skmed2vec._embedder.TemporalMed2VecEmbedder",
    "skmed2vec._vocabulary.CodeVocabulary",
]

#: Marks the dict a model file holds.
MODEL_FORMAT = "skmed2vec-model"


def _number(text):
    """An int when the text is one, else a float (``min_frequency=5`` vs ``0.001``)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


#: What ``--recency-decay none`` stands for: the parameter set to None, not left out.
_NONE = "none"


def _decay_or_none(text):
    """A float, or ``"none"`` (the parameter set to None)."""
    return _NONE if text.strip().lower() == _NONE else float(text)


# option, estimator, parameter, type, help
_OPTIONS = [
    ("--min-frequency", "vocabulary", "min_frequency", _number, "events a code needs (or share)"),
    ("--min-subjects", "vocabulary", "min_subjects", _number, "patients a code needs (or share)"),
    ("--max-codes", "vocabulary", "max_codes", int, "keep only the most frequent codes"),
    (
        "--grouping",
        "vocabulary",
        "grouping",
        str,
        "icd10_category, icd10_subcategory, icd9_category or icd_category",
    ),
    ("--system", "vocabulary", "system", str, "prefix for bare codes, e.g. ICD10CM//"),
    ("--embed-dim", "embedder", "embed_dim", int, "length of each code vector"),
    ("--time-decay", "embedder", "time_decay", float, "pair decay per day; 0 turns it off"),
    (
        "--recency-decay",
        "embedder",
        "recency_decay",
        _decay_or_none,
        "decay per day of the recency rows; none uses --time-decay",
    ),
    ("--window", "embedder", "window", int, "events on each side that are context"),
    ("--max-gap", "embedder", "max_gap", float, "days beyond which pairs are not context"),
    ("--negative", "embedder", "negative", int, "negative codes per positive"),
    ("--epochs", "embedder", "epochs", int, "passes over the training pairs"),
    ("--batch-size", "embedder", "batch_size", int, "pairs per optimiser step"),
    ("--learning-rate", "embedder", "learning_rate", float, "Adagrad step size"),
    ("--objective", "embedder", "objective", str, "negative_sampling or softmax"),
    ("--device", "embedder", "device", str, "torch device, e.g. cuda"),
    ("--random-state", "embedder", "random_state", int, "seed"),
]
_OPTION_OF = {parameter: option for option, _, parameter, _, _ in _OPTIONS}
_OPTION_OF["aggregation"] = "--aggregation"


def option_for(parameter):
    """The command-line option that sets an estimator (or reading) parameter, or None."""
    return _OPTION_OF.get(parameter) or _READING_OPTIONS.get(parameter)


#: Parameters of events_to_timelines that input options set.
_READING_OPTIONS = {
    "static_events": "--static-events",
    "at_prediction_time": "--at-prediction-time",
}


def add_estimator_options(parser):
    vocabulary = parser.add_argument_group("vocabulary (CodeVocabulary)")
    embedder = parser.add_argument_group("embedder (TemporalMed2VecEmbedder)")
    groups = {"vocabulary": vocabulary, "embedder": embedder}
    for option, estimator, parameter, kind, help in _OPTIONS:
        default = getattr(
            CodeVocabulary() if estimator == "vocabulary" else TemporalMed2VecEmbedder(), parameter
        )
        groups[estimator].add_argument(
            option,
            dest=parameter,
            type=kind,
            default=None,
            metavar=parameter.upper(),
            help=f"{help} (default {default})",
        )
    embedder.add_argument(
        "--aggregation",
        nargs="+",
        default=None,
        metavar="KIND",
        help="recency, mean and/or max; several concatenate (default recency mean)",
    )


def build_pipeline(args, verbose=0):
    vocabulary, embedder = {}, {}
    for _, estimator, parameter, _, _ in _OPTIONS:
        value = getattr(args, parameter)
        if value is not None:
            value = None if value == _NONE else value
            (vocabulary if estimator == "vocabulary" else embedder)[parameter] = value
    if args.aggregation is not None:
        embedder["aggregation"] = (
            args.aggregation[0] if len(args.aggregation) == 1 else list(args.aggregation)
        )
    return Pipeline(
        [
            ("vocabulary", CodeVocabulary(verbose=verbose, **vocabulary)),
            ("embedder", TemporalMed2VecEmbedder(verbose=verbose, **embedder)),
        ]
    )


def add_model_option(parser, *, required=True):
    parser.add_argument(
        "--model",
        metavar="FILE",
        required=required,
        help="model file written by 'skmed2vec fit' (.skops; .joblib needs --trust-pickle)",
    )
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow a joblib/pickle model file: loading it runs code from the file",
    )


def check_model_format(format):
    """Refuse, before any work, a model format whose writer is not installed."""
    if format != "skops":
        return
    try:
        import skops.io  # noqa: F401
    except ImportError:
        raise CommandError(
            "--model-format skops needs skops: pip install 'skmed2vec[secure]', "
            "or choose --model-format joblib"
        ) from None


def save_model(
    path, pipeline, *, descriptions=None, groups=None, format="skops", option="--output"
):
    """Write the fitted pipeline, with code descriptions and groups, atomically."""
    path = check_output(path, option)
    model = {
        "format": MODEL_FORMAT,
        "model": pipeline,
        "descriptions": dict(descriptions or {}),
        "groups": dict(groups or {}),
    }
    if format == "skops":
        check_model_format(format)
        import skops.io as sio

        with atomic_open(path, "wb") as handle:
            handle.write(sio.dumps(model))
    else:
        import joblib

        with atomic_open(path, "wb") as handle:
            joblib.dump(model, handle)
    logger.info("model written to %s (%s)", path, format)
    return path


def _is_zip(path):
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def load_model(args):
    """The fitted pipeline, its embedder, and the code metadata of ``--model``.

    The metadata is a dict with ``"descriptions"`` and ``"groups"`` (dicts by code,
    empty when the model file has none).
    """
    path = Path(args.model)
    if not path.is_file():
        raise CommandError(f"--model {path}: no such file")
    if _is_zip(path):  # skops files are zip archives
        import skops.io as sio

        untrusted = [t for t in sio.get_untrusted_types(file=path) if t not in TRUSTED_TYPES]
        if untrusted:
            raise CommandError(
                f"--model {path}: the file holds types this command does not trust: "
                f"{', '.join(untrusted[:5])}"
            )
        model = sio.load(path, trusted=TRUSTED_TYPES)
    elif args.trust_pickle:
        import joblib

        model = joblib.load(path)
    else:
        raise CommandError(
            f"--model {path}: not a skops file; loading a joblib/pickle file runs code from "
            "it: pass --trust-pickle only if you trust its source"
        )
    if isinstance(model, dict) and model.get("format") == MODEL_FORMAT:
        pipeline = model["model"]
        metadata = {k: dict(model.get(k) or {}) for k in ("descriptions", "groups")}
    else:
        pipeline, metadata = model, {"descriptions": {}, "groups": {}}
    embedder = _embedder_of(pipeline)
    if embedder is None:
        raise CommandError(f"--model {path}: holds no fitted TemporalMed2VecEmbedder")
    return pipeline, embedder, metadata


def _embedder_of(model):
    if isinstance(model, TemporalMed2VecEmbedder):
        return model
    if isinstance(model, Pipeline):
        found = [s for _, s in model.steps if isinstance(s, TemporalMed2VecEmbedder)]
        return found[-1] if found else None
    return None
