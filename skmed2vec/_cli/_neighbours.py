"""``skmed2vec neighbours``: the nearest codes of a few codes, as a readable table."""

from ._errors import CommandError
from ._models import add_model_option, load_model

__all__ = ["add_parser", "neighbour_rows", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "neighbours",
        aliases=["neighbors"],
        help="nearest codes by cosine similarity",
        description="Print the codes whose vectors are closest (cosine) to each CODE.",
    )
    add_model_option(parser)
    parser.add_argument("codes", nargs="+", metavar="CODE", help="codes to look up")
    parser.add_argument("--topn", type=int, default=10, help="neighbours per code (default 10)")
    parser.set_defaults(run=run)
    return parser


def neighbour_rows(embedder, code, topn, descriptions):
    if code not in embedder.vocabulary_:
        raise CommandError(
            f"CODE {code!r} is not in the model's vocabulary ({len(embedder.codes_)} codes, "
            "e.g. " + ", ".join(embedder.codes_[1:4].tolist()) + ")"
        )
    counts = dict(zip(embedder.codes_.tolist(), embedder.code_counts_.tolist()))
    return [
        (neighbour, similarity, counts[neighbour], descriptions.get(neighbour, ""))
        for neighbour, similarity in embedder.most_similar(code, topn=topn)
    ]


def _table(rows, header):
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run(args):
    if args.topn < 1:
        raise CommandError(f"--topn must be at least 1; got {args.topn}")
    _, embedder, metadata = load_model(args)
    descriptions = metadata["descriptions"]
    blocks = []
    for code in args.codes:
        rows = neighbour_rows(embedder, code, args.topn, descriptions)
        title = f"{code}  ({descriptions[code]})" if code in descriptions else code
        count = int(embedder.code_counts_[embedder.vocabulary_[code]])
        table = _table(
            [(n, f"{s:.3f}", c, d) for n, s, c, d in rows],
            ["code", "similarity", "count", "description"],
        )
        blocks.append(f"{title}: {count} events\n{table}")
    print("\n\n".join(blocks))
    return 0
