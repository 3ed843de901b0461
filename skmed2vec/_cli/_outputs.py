"""Output paths, checked before any work so that a long run cannot fail at its end."""

import os
from pathlib import Path

from ._errors import CommandError

__all__ = ["check_output"]


def check_output(path, option="--output", *, folder=False):
    """Refuse an output path the command could not write, naming it and the option.

    Parameters
    ----------
    path : str or path-like
        The path the command will write.
    option : str, default="--output"
        The option that named it, for messages.
    folder : bool, default=False
        Whether the command writes a folder (created with its parents) rather than
        a file (in a folder that must exist).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    CommandError
        If ``path`` is a folder where a file is written or a file where a folder is,
        or the folder it goes in does not exist (files only), is not a folder or is
        not writable.
    """
    path = Path(path)
    if folder:
        if path.exists() and not path.is_dir():
            raise CommandError(f"{option} {path}: is a file; this format writes a folder")
        # The folders to create go in the nearest one that exists.
        parent = next(p for p in [path, *path.parents] if p.exists() or p == Path(p.anchor))
    else:
        if path.is_dir():
            raise CommandError(f"{option} {path}: is a folder; name the file to write")
        parent = path.parent
        if not parent.exists():
            raise CommandError(f"{option} {path}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise CommandError(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CommandError(f"{option} {path}: the folder {parent} is not writable")
    return path
