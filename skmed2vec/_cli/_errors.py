"""The command line's error type: one line naming the problem and the option to fix."""

__all__ = ["CommandError"]


class CommandError(Exception):
    """A problem with the command's input; printed as one line, exit status 1."""
