"""TensorFlow's C++ start-up notes, kept out of the user's output.

TensorFlow's C++ runtime writes start-up notes (oneDNN, CUDA stubs, CPU
features, XLA's service; on a machine without a GPU, a "failed call to
cuInit" error) straight to file descriptor 2, before Python's logging could
filter them, and TensorFlow 2.21 writes them whatever ``TF_CPP_MIN_LOG_LEVEL``
says. When skmnist's code imports TensorFlow (through Keras or scikeras) and
when it runs the backend's first operations (:mod:`skmnist._backend`),
descriptor 2 is captured, and what is not such a note is written on
afterwards, in notebooks, scripts and joblib or Dask workers alike. A user
who sets ``TF_CPP_MIN_LOG_LEVEL`` gets what that level asks for (``0``:
everything).
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import functools
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile

# The two prefixes of a log line: absl's (the severity letter, then the month
# and day) and, in TensorFlow 2.18, TensorFlow's own (date, time, severity).
_LOG_LINE = re.compile(
    rb"^(?:([IWEF])\d{4} |\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) )"
)
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_ABSL_NOTICE = b"WARNING: All log messages before absl::InitializeLog()"
# Errors TensorFlow's CUDA build logs at every start on a machine without a
# GPU (cuInit), and, up to 2.18, for its CUDA plug-ins registered twice.
_NOISE = re.compile(rb"failed call to cuInit|Unable to register cu\w+ factory")


def _least_shown():
    """The lowest severity shown: the user's ``TF_CPP_MIN_LOG_LEVEL``, else errors."""
    value = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    if value is None:
        return None
    try:
        return max(0, min(int(value), 3))
    except ValueError:
        return 0


def _kept(text, least):
    """The lines of ``text`` that are not start-up notes below ``least``."""
    kept, hiding = [], False
    for line in text.splitlines(keepends=True):
        match = _LOG_LINE.match(line)
        if match:
            severity = _SEVERITY[match.group(1) or match.group(2)]
            hiding = severity < (2 if least is None else least) or bool(
                _NOISE.search(line)
            )
        elif line.startswith(_ABSL_NOTICE):
            hiding = least is None or least > 0
            if hiding:
                continue
        elif not line.startswith((b" ", b"\t", b"To enable the following")):
            hiding = False  # a line of its own, not a log line's continuation
        if not hiding:
            kept.append(line)
    return b"".join(kept)


# Read when skmnist is imported: Keras sets the variable itself on import.
_LEAST_SHOWN = _least_shown()


@contextlib.contextmanager
def startup_logs_filtered():
    """Capture file descriptor 2 while TensorFlow starts; write on what is not noise."""
    least = _LEAST_SHOWN
    if least == 0:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no descriptor 2 to capture
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            rest = _kept(capture.read(), least)
            if rest:
                os.write(2, rest)


class _FilteredFirstImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, and runs its first import filtered.

    Only an import that skmnist's own code sets off (a frame of an
    ``skmnist`` module on the stack) is filtered; the finder then leaves
    ``sys.meta_path``.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow" or not _through_skmnist():
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            loader = spec.loader
            loader.exec_module = functools.partial(_exec_filtered, loader.exec_module)
        return spec


def _exec_filtered(exec_module, module):
    with startup_logs_filtered():
        exec_module(module)


def _through_skmnist():
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__", "").startswith("skmnist."):
            return True
        frame = frame.f_back
    return False


def install():
    """Filter the start-up notes of TensorFlow's first import by skmnist's code."""
    if "tensorflow" in sys.modules or _LEAST_SHOWN == 0:
        return
    if not any(isinstance(f, _FilteredFirstImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _FilteredFirstImport())
