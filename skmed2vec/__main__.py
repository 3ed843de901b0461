"""Command line: ``skmed2vec`` / ``python -m skmed2vec`` (see ``skmed2vec --help``)."""

import sys

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
