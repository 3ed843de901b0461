"""The ``skmed2vec`` command: parser assembly, logging, errors and exit statuses.

Exit statuses: 0 success, 1 an error in the input or the data (one line on stderr
naming the problem and the option), 2 a usage error (argparse's message).
"""

import argparse
import logging
import re
import sys

from sklearn.utils._param_validation import InvalidParameterError

from . import _demo, _export, _fit, _neighbours, _predict, _transform
from ._errors import CommandError
from ._models import option_for

__all__ = ["build_parser", "main"]

# The command's own messages; the estimators print theirs under ``verbose``.
logger = logging.getLogger(__name__)

_COMMANDS = (_fit, _transform, _neighbours, _export, _predict, _demo)


def build_parser():
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="skmed2vec",
        description="Time-aware embeddings of medical codes: fit them on MEDS, OMOP or "
        "event files, turn patients into features, look at neighbours, export vectors.",
        epilog="Run 'skmed2vec COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"skmed2vec {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose", "-v", action="count", default=0, help="progress and log messages"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    original = commands.add_parser

    def add_parser(name, **kwargs):
        kwargs.setdefault("parents", [common])
        return original(name, **kwargs)

    commands.add_parser = add_parser
    for module in _COMMANDS:
        module.add_parser(commands)
    return parser


def _configure_logging(verbose):
    if not verbose:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s skmed2vec: %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose > 1 else logging.INFO)
    return handler


def _message(exc):
    """One line for an error, naming the option where a parameter caused it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, CommandError):
        return text
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    match = re.search(r"'(\w+)' parameter", text)
    if match and option_for(match.group(1)):
        return f"{option_for(match.group(1))}: {text}"
    # Messages that advise a parameter ("lower learning_rate", "pass
    # static_events='drop'") name its option instead.
    # snake_case names and "epochs", but not inside a path or a quoted name
    names = r"(?<![\w/\\.'\"-])(?:[a-z]+(?:_[a-z]+)+|epochs)(?![\w/\\'\"-]|\.\w)"
    return re.sub(names, lambda m: option_for(m.group(0)) or m.group(0), text)


def main(argv=None):
    """Entry point of the ``skmed2vec`` command; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help()
        return 0
    args = parser.parse_args(argv)  # exits with status 2 on a usage error
    if args.command is None:
        parser.print_help()
        return 0
    handler = _configure_logging(args.verbose)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"skmed2vec {args.command}: interrupted", file=sys.stderr)
        return 130
    except (
        CommandError,
        InvalidParameterError,
        ValueError,
        KeyError,
        TypeError,
        OSError,
        ImportError,
        ArithmeticError,
    ) as exc:
        logger.debug("error details", exc_info=True)
        print(f"skmed2vec {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1
    finally:
        if handler is not None:
            logger.removeHandler(handler)
