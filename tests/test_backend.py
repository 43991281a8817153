"""skmnist._backend: the thread budget read from the environment, bounded.

A budget larger than the machine (issue 29: ``OMP_NUM_THREADS=100000`` made
TensorFlow start thousands of threads and hang or crash, ``2**40`` raised)
is bounded to the CPUs this process may run on, with one warning; a value
that is not a positive whole number is ignored with one warning.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import pytest

from skmnist import _backend

CPUS = len(os.sched_getaffinity(0))

FIT = textwrap.dedent(
    """
    import warnings
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    import tensorflow as tf
    from skmnist import MLPClassifier

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    clf.fit(X[:200] / 16, y[:200])
    clf.partial_fit(X[:200] / 16, y[:200])
    print("threads", tf.config.threading.get_intra_op_parallelism_threads(),
          tf.config.threading.get_inter_op_parallelism_threads())
    """
)


@pytest.mark.parametrize(
    ("name", "value", "threads", "says"),
    [
        ("OMP_NUM_THREADS", "100000", CPUS, "is more threads than the"),
        ("SKMNIST_NUM_THREADS", str(2**40), CPUS, "is more threads than the"),
        ("SKMNIST_NUM_THREADS", "lots", 0, "is not a positive whole number"),
    ],
)
def test_a_fit_under_an_odd_thread_budget_runs_with_one_warning(
    name, value, threads, says
):
    env = {**os.environ, name: value, "KERAS_BACKEND": "tensorflow"}
    other = {"OMP_NUM_THREADS", "SKMNIST_NUM_THREADS"} - {name}
    env.pop(other.pop(), None)
    done = subprocess.run(
        [sys.executable, "-c", FIT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # -11 was a segfault
    assert f"threads {threads} {threads}" in done.stdout
    lines = [line for line in done.stderr.splitlines() if f"{name}=" in line]
    assert len(lines) == 1, done.stderr[-2000:]
    assert f"{name}='{value}' {says}" in lines[0]
    if threads:
        assert lines[0].endswith(f"{CPUS} CPUs this process may run on; using {CPUS}.")


@pytest.mark.parametrize(
    ("skmnist", "omp", "budget", "warned"),
    [
        ("3", "100000", min(3, CPUS), CPUS < 3),
        (None, "1", 1, False),
        ("", "1", 1, False),
        ("  ", "1", 1, False),
        ("0", "1", 1, True),
        ("-2", None, None, True),
        ("+1", None, 1, False),
        ("1.5", "1", 1, True),
        ("9" * 5000, None, CPUS, True),
        ("1e9", None, None, True),
        ("\x1b[31m", None, None, True),
        (None, None, None, False),
    ],
)
def test_the_thread_budget_of_each_setting(monkeypatch, skmnist, omp, budget, warned):
    for name, value in [("SKMNIST_NUM_THREADS", skmnist), ("OMP_NUM_THREADS", omp)]:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _backend._thread_budget() == budget
    assert len(caught) == warned
    if warned:
        message = str(caught[0].message)
        assert len(message) < 200 and "\x1b" not in message
