"""``skmed2vec export``: the code vectors in a format other tools read."""

from .._export import FORMATS
from ._models import add_model_option, load_model
from ._outputs import check_output

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "export",
        help="write the code vectors for other tools",
        description="Write the code vectors with their counts (and the code descriptions "
        "and MEDS parent codes, when the model has them). Codes with whitespace are "
        "percent-escaped in word2vec files.",
    )
    add_model_option(parser)
    parser.add_argument("--format", required=True, choices=FORMATS, help="file format")
    parser.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="PATH",
        help="file, or for --format projector a folder (vectors.tsv, metadata.tsv)",
    )
    parser.set_defaults(run=run)
    return parser


def run(args):
    check_output(args.output, folder=args.format == "projector")
    _, embedder, metadata = load_model(args)
    written = embedder.export(
        args.output,
        format=args.format,
        groups=metadata["groups"] or None,
        descriptions=metadata["descriptions"] or None,
    )
    print(f"wrote {len(embedder.codes_)} code vectors to " + ", ".join(map(str, written)))
    return 0
