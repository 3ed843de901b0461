"""Command line: ``skmed2vec`` / ``python -m skmed2vec`` (see ``skmed2vec --help``)."""

import sys

from ._cli import main
from ._cli._demo import bag_of_codes_documents

__all__ = ["bag_of_codes_documents", "main"]

if __name__ == "__main__":
    sys.exit(main())
