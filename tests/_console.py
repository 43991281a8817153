"""The installed ``skmnist`` console script, run in a process of its own."""

import os
import shutil
import signal
import subprocess
import sys

EXE = shutil.which("skmnist", path=os.path.dirname(sys.executable)) or shutil.which(
    "skmnist"
)


def run_skmnist(*args, env=None, **kwargs):
    """Run the installed console script."""
    assert EXE, "the skmnist console script is not installed"
    return subprocess.run(
        [EXE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        **kwargs,
    )


def sigint_as_in_a_terminal():
    """Popen's ``preexec_fn`` for a child that is sent Ctrl-C.

    A test run started in the background by a non-interactive shell ignores
    SIGINT, and its children inherit that: Python then turns Ctrl-C into no
    ``KeyboardInterrupt`` at all.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
