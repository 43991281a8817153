"""A model file's zip container, bounded before zipfile parses it.

zipfile reads every entry of an archive's central directory before it can be
asked what the archive holds, so the end record is read first and the
directory's size and entry count checked against what a model file may
have; each member is then read with a cap on its inflated size, never
trusting the size it declares. :mod:`skmnist._model_format` checks what the
members hold.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import io
import reprlib
import struct
import zipfile
import zlib

# A model file's central directory lists its two members in about 150 bytes;
# no archive read here may list more than this many members, in this many
# bytes (zipfile parses every entry the directory holds before it can be
# asked what the archive holds).
MAX_MEMBERS = 64
MAX_DIRECTORY_BYTES = 2**16


class ModelFileError(ValueError):
    """A file that is not a model file this version of skmnist can load."""


# Values from a file, as its error messages show them: a few items of a
# list, the start and end of a long string.
SHORT = reprlib.Repr()
SHORT.maxlevel = 3
SHORT.maxstring = SHORT.maxother = 80
SHORT.maxlong = 40
SHORT.maxlist = SHORT.maxtuple = SHORT.maxdict = SHORT.maxset = 5
SHORT.maxfrozenset = SHORT.maxarray = 5
short = SHORT.repr


def listed(names, most=5):
    """``names`` for a message: the first few, then how many more."""
    shown = ", ".join(SHORT.repr(name) for name in names[:most])
    more = len(names) - most
    return f"[{shown}{f', ... and {more:,} more' if more > 0 else ''}]"


# -- the archive -------------------------------------------------------------------


class ClosingZipFile(zipfile.ZipFile):
    """A ZipFile on an open file, which it closes when it closes."""

    def close(self):
        file = self.fp
        try:
            super().close()
        finally:
            if file is not None:
                file.close()


_END = struct.Struct("<4s4H2LH")  # the end of central directory record
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"


def open_zip(file, what, cls=zipfile.ZipFile):
    """A ZipFile on ``file``, once its end record promises a small directory.

    ``zipfile`` reads and parses the whole central directory its end record
    points to before anything can be checked: a directory of millions of
    entries would cost gigabytes. The end record is found as ``zipfile``
    finds it (at the end, else the last signature in the 64 KiB a comment
    may take) and must list at most :data:`MAX_MEMBERS` members in at most
    :data:`MAX_DIRECTORY_BYTES`; a ZIP64 end record, which no model file
    needs, is refused.
    """
    not_zip = (
        f"{what} is not a zip archive ({{}}); pickle and joblib files are not "
        "model files"
    )
    try:
        size = file.seek(0, io.SEEK_END)
        start = max(size - _END.size - 0xFFFF, 0)
        file.seek(start)
        tail = file.read(size - start)
    except OSError as exc:
        raise ModelFileError(not_zip.format(exc)) from None
    at = len(tail) - _END.size
    if not (at >= 0 and tail[at:].startswith(_END_SIGNATURE) and tail[-2:] == b"\0\0"):
        at = tail.rfind(_END_SIGNATURE)
    if at < 0 or at + _END.size > len(tail):
        raise ModelFileError(not_zip.format("it has no end of central directory"))
    _, _, _, _, n_members, directory_bytes, _, _ = _END.unpack_from(tail, at)
    locator = at - _ZIP64_LOCATOR.size
    if locator >= 0 and tail.startswith(_ZIP64_LOCATOR_SIGNATURE, locator):
        raise ModelFileError(
            f"{what} ends in a ZIP64 end record, for archives of more than 65,535 "
            "members or 4 GiB; a model file is neither"
        )
    if n_members > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"{what} is a zip archive whose central directory lists {n_members:,} "
            f"members in {directory_bytes:,} bytes; a model file has "
            f"{MAX_MEMBERS} members at most, listed in at most "
            f"{MAX_DIRECTORY_BYTES:,} bytes"
        )
    try:
        file.seek(0)
        return cls(file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(not_zip.format(exc)) from None


def read_member(archive, name, limit):
    """The bytes of a zip member, inflating no more than ``limit`` + 1 of them."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise ModelFileError(
            f"its {name} declares {info.file_size:,} bytes; a model file's {name} "
            f"may hold at most {limit:,}"
        )
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ModelFileError(f"its {name} cannot be read ({exc})") from None
    if len(data) > limit:
        raise ModelFileError(
            f"its {name} inflates to more than {limit:,} bytes, the most a model "
            f"file's {name} may hold"
        )
    return data
