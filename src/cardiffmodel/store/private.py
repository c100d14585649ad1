"""Files holding incidents or accounts are readable by their owner only (mode 0600).

The store holds health records and ``web.sqlite`` holds password hashes and the audit
log: another account on the same machine should read neither. DuckDB cannot be handed
an empty file to start from, so a new store is closed to others right after it is made,
before any record is written; journals made later (DuckDB's ``.wal``, SQLite's ``-wal``
and ``-shm``) are closed again whenever the owner opens or closes the file, and
``cardiff`` itself runs with a umask of 077 so that anything it makes starts private.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE = stat.S_IRUSR | stat.S_IWUSR
JOURNALS = (".wal", "-wal", "-shm", "-journal")


def make_private(path: Path) -> None:
    """Take away group and other permissions from ``path`` and its journals, if any."""
    for candidate in (path, *(path.with_name(path.name + s) for s in JOURNALS)):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077:
                os.chmod(candidate, mode & 0o700)
        except (FileNotFoundError, PermissionError):
            continue  # no such journal, or another owner's file (a shared store): leave it


def create_private(path: Path) -> None:
    """Make an empty file that only its owner can read, unless it exists already."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
