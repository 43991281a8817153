"""The installed ``skmnist`` console script, run in a process of its own."""

import os
import shutil
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
