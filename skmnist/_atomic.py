"""Files written whole or not at all, as ``open(path, "wb")`` would write them.

:func:`atomic_write` writes a temporary file in the target's directory,
flushes it to disk (``fsync``) and renames it over the target, so that a
reader sees the old file or the new one, never a part of one; on any failure
(a full disk, Ctrl-C, an exception of the caller's) the temporary file is
removed and the target left as it was. The file made is the one
``open(path, "wb")`` would have made: an existing file keeps its mode (and
its owner and group where the process may set them), a new one gets the
mode the umask gives, and a symbolic link is written through to its target,
the link kept. The temporary name does not grow with the target's, so a name
near the file system's limit (255 bytes) can be written.

:func:`check_writable` answers before a long run whether its outputs can be
written, in the words the write itself would use. Errors name the path the
user gave, never the temporary file: ``cannot write PATH: reason``.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["atomic_write", "check_writable", "make_directory", "write_bytes"]

# ".skmnist-" and 8 hex digits: 21 bytes whatever the target's name.
_PREFIX, _SUFFIX = ".skmnist-", ".tmp"

# Errors of the disk under a write, whoever made the write call.
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS}


def _error(path, exc_type, reason):
    """``exc_type("cannot write PATH: reason")``."""
    return exc_type(f"cannot write {os.fspath(path)}: {reason}")


def _from_os_error(path, exc):
    """An OSError of the same class, naming ``path`` instead of a temporary."""
    new = _error(path, type(exc), exc.strerror or str(exc))
    new.errno = exc.errno
    return new


def _target(path):
    """The file a write to ``path`` lands in (a symbolic link's target).

    Returns its resolved path and its ``os.stat`` result, or None when it
    does not exist yet; refuses what ``open(path, "wb")`` would refuse or
    what a rename must not replace (a directory, a FIFO, a device).
    """
    if os.fspath(path) == "":
        raise _error(path, FileNotFoundError, "the path is empty")
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:  # a loop of links, a component that is a file, ...
        raise _from_os_error(path, exc) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise _error(path, IsADirectoryError, "it is a directory")
        raise _error(path, OSError, "it exists and is not a regular file")
    if info is not None and not os.access(target, os.W_OK):
        raise _error(path, PermissionError, "the file is read-only")
    return target, info


def _create_temporary(path, directory):
    """Create a new empty file in ``directory``; return its name and file object."""
    while True:
        name = directory / f"{_PREFIX}{secrets.token_hex(4)}{_SUFFIX}"
        try:
            return name, open(name, "xb")  # O_EXCL: a link there is not followed
        except FileExistsError:
            continue
        except OSError as exc:
            raise _from_os_error(path, exc) from None


def _sync_directory(directory):
    """Flush a rename in ``directory`` to disk, where the system allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def check_writable(*paths):
    """Check that each of ``paths`` can be written, before the work that makes it.

    A temporary file is created and removed in each target's directory, the
    surest test there is (permissions, a read-only file system, a missing
    directory, a user the process runs as). Two paths that name one file are
    refused: one output would overwrite the other.

    Raises
    ------
    OSError
        If a path cannot be written; the message names the path given.
    ValueError
        If two of ``paths`` are the same file.
    """
    seen = {}
    for path in paths:
        target, _ = _target(path)
        name, file = _create_temporary(path, target.parent)
        file.close()
        name.unlink()
        if target in seen:
            raise ValueError(
                f"cannot write {os.fspath(seen[target])} and {os.fspath(path)}: "
                "they are the same file, so one would overwrite the other"
            )
        seen[target] = path


def make_directory(path):
    """Make the directory ``path`` (and its parents) and check it can be written.

    Raises
    ------
    OSError
        If ``path`` is a file, or cannot be made or written in; the message
        names the path given.
    """
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _error(path, NotADirectoryError, "it is not a directory") from None
    except OSError as exc:
        raise _from_os_error(path, exc) from None
    name, file = _create_temporary(path, Path(path))
    file.close()
    name.unlink()


@contextlib.contextmanager
def atomic_write(path):
    """Write the file ``path`` atomically, through a binary file object.

    Yields an open binary file (its ``name`` the temporary file, which the
    caller may read back to check it before it replaces ``path``). When the
    ``with`` block ends normally the data is flushed to disk and the file
    renamed over ``path``; when it raises, the temporary file is removed and
    ``path`` is left as it was.

    Raises
    ------
    OSError
        If ``path`` cannot be written (missing or read-only directory, a
        directory or special file at ``path``, a full disk); the message
        names ``path``.
    """
    target, existing = _target(path)
    temporary, file = _create_temporary(path, target.parent)
    try:
        with file:
            if existing is not None:
                if (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(OSError):  # as open() would: kept
                        os.fchown(file.fileno(), existing.st_uid, existing.st_gid)
                os.fchmod(file.fileno(), stat.S_IMODE(existing.st_mode))
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        # A failure of the write itself (the disk's, or one naming the
        # temporary) is told with the user's path; the caller's own errors
        # (a dropped connection, a bad checksum) pass as they are.
        if isinstance(exc, OSError) and (
            exc.filename == str(temporary)
            or (exc.filename is None and exc.errno in _DISK_ERRORS)
        ):
            raise _from_os_error(path, exc) from None
        raise
    _sync_directory(target.parent)


def write_bytes(path, data):
    """Write ``data`` to ``path`` with :func:`atomic_write`; return its length."""
    with atomic_write(path) as file:
        file.write(data)
    return len(data)
