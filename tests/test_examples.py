"""Every gallery example runs, on a small slice of MNIST.

The docs build runs the examples too (sphinx-gallery, in CI on the newest
releases only); these tests are what runs them in a plain ``pytest``, and on
the oldest supported releases. Like sphinx-gallery, one Python process runs
them all, one after another: a process per example paid TensorFlow's start-up
(about 6 s) once for each. Each runs as ``__main__`` in an empty working
directory of its own, its figures closed after it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("plot_*.py"))

RUN_EXAMPLES = """
import contextlib, io, json, os, runpy, sys, traceback, warnings
import matplotlib.pyplot as plt

results_path, scripts = sys.argv[1], sys.argv[2:]
results = {}
for script in scripts:
    cwd = os.path.join(os.path.dirname(results_path), os.path.basename(script))
    os.mkdir(cwd)
    os.chdir(cwd)
    stdout = io.StringIO()
    # The warnings a reader running the script would see, recorded instead.
    with warnings.catch_warnings(record=True) as caught:
        try:
            with contextlib.redirect_stdout(stdout):
                runpy.run_path(script, run_name="__main__")
            error = None
        except Exception:
            error = traceback.format_exc()
    plt.close("all")
    results[os.path.basename(script)] = {
        "stdout": stdout.getvalue(),
        "error": error,
        "files": sorted(os.listdir(cwd)),
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }
with open(results_path, "w") as f:
    json.dump(results, f)
"""


@pytest.fixture(scope="module")
def example_runs(mnist_home, tmp_path_factory):
    """``{script name: {"stdout", "error" (a traceback or None), "files"}}``."""
    results = tmp_path_factory.mktemp("examples") / "results.json"
    env = {**os.environ, "SKMNIST_EXAMPLE_SMALL": "1", "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [sys.executable, "-c", RUN_EXAMPLES, str(results), *map(str, EXAMPLES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert run.returncode == 0 and results.is_file(), run.stderr[-3000:]
    return json.loads(results.read_text())


def test_there_are_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, example_runs):
    result = example_runs[script.name]
    assert result["error"] is None, result["error"][-3000:]
    assert "accuracy" in result["stdout"]
    assert result["files"] == []  # examples leave no files behind
    # The gallery shows the output as it is: no warnings, no machine's paths.
    assert result["warnings"] == []
    for path in (
        sys.prefix,
        str(Path(__file__).parent.parent),
        os.path.expanduser("~"),
    ):
        assert path not in result["stdout"]
