"""``skmed2vec fit``: learn the vocabulary and code vectors, write the model file."""

from .._timelines import events_to_timelines
from ._inputs import add_input_options, read_codes_metadata, read_events, timeline_options
from ._models import add_estimator_options, build_pipeline, check_model_format, save_model
from ._outputs import check_output

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "fit",
        help="fit the vocabulary and embedder on events; write the model file",
        description="Fit CodeVocabulary and TemporalMed2VecEmbedder on an event table, a "
        "MEDS folder or an OMOP source, and write them to --output.",
    )
    add_input_options(parser, prediction_times=False)
    parser.add_argument(
        "--description-col",
        metavar="NAME",
        help="column of code descriptions in the events, kept in the model for "
        "'neighbours' and 'export' (MEDS folders: metadata/codes.parquet is used)",
    )
    add_estimator_options(parser)
    parser.add_argument("--output", "-o", required=True, metavar="FILE", help="model file")
    parser.add_argument(
        "--model-format",
        choices=["skops", "joblib"],
        default="skops",
        help="skops (default; loads without running code) or joblib",
    )
    parser.set_defaults(run=run)
    return parser


def run(args):
    check_output(args.output)
    check_model_format(args.model_format)
    events = read_events(args)
    X, _ = events_to_timelines(events, **timeline_options(args))
    pipeline = build_pipeline(args, verbose=args.verbose).fit(X)
    embedder = pipeline.named_steps["embedder"]
    descriptions, groups = read_codes_metadata(args, events)
    kept = embedder.codes_.tolist()
    save_model(
        args.output,
        pipeline,
        descriptions={c: descriptions[c] for c in kept if c in descriptions},
        groups={c: groups[c] for c in kept if c in groups},
        format=args.model_format,
    )
    print(
        f"fitted {len(embedder.codes_)} codes x {embedder.code_vectors_.shape[1]} dims "
        f"on {len(X)} subjects, {X.n_events} events; wrote {args.output}"
    )
    return 0
