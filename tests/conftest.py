"""Shared fixtures: real MNIST, scikit-learn's digits, the search, the mirror.

Fixtures only; the helpers tests call live in modules of their own
(``_bad_input``, ``_console``, ``_measure``, ``_mirror``, ``_properties``,
``_chromium``).

MNIST is found as :func:`skmnist.fetch_mnist` finds it: ``SKMNIST_DATA``, else
``sklearn.datasets.get_data_home()/mnist`` (downloading there when missing).
Tests that need the files are marked ``mnist`` (automatically, when they use
the ``mnist_home`` fixture or one built on it). Without the files:

- ``SKMNIST_DATA`` set (as in CI) or ``SKMNIST_REQUIRE_MNIST=1``: they fail;
- otherwise (offline, nothing in the data home): they are skipped, with a
  reason that says how to provide the files.
"""

import json
import os
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import get_data_home, load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from threadpoolctl import threadpool_limits

from skmnist import fetch_mnist, make_mnist_pipeline

from . import _bad_input, _mirror

# Fixtures that read the real MNIST files; a test using any of them (directly
# or through another fixture) is marked ``mnist``.
MNIST_FIXTURES = {"mnist_home"}

_HOW_TO_PROVIDE = (
    "set SKMNIST_DATA to a directory holding {files} (in this repository's CI: "
    "../shared/mnist), or put them in {default}, or run once with internet "
    "access so that fetch_mnist downloads them there"
)


# Under pytest-xdist each file runs whole in one worker, and the workers take
# the files in collection order (--no-loadscope-reorder, pyproject.toml; the
# default order, most tests first, left the few long tests of test_distributed
# and test_examples for last). Long files go first, so that the last a worker
# takes is short and the two finish together; the others follow in name
# order. Not strictly longest first: with test_cli first, beside the other
# files that start processes, the suite took 9:48 where this order took 8:25
# (one quiet run each). Seconds each file's tests took in the 8:25 run, two
# processes on 2 cores, roughly:
SLOWEST_FILES_FIRST = (
    "test_estimator_checks.py",  # 55
    "test_distributed.py",  # 60 (with the session's local search)
    "test_cli.py",  # 220
    "test_sklearn_workflows.py",  # 45
    "test_epochs.py",  # 75
    "test_training.py",  # 30
    "test_interrupt.py",  # 35
    "test_examples.py",  # 25
    "test_mlp_classifier.py",  # 40
    "test_datasets.py",  # 45
    "test_persistence.py",  # 20
    "test_classifier.py",  # 10
)


def pytest_configure(config):
    """Each pytest-xdist process keeps to its share of the cores.

    So do the processes it starts (console scripts, examples, joblib
    workers), through the environment: with every BLAS, OpenMP and
    TensorFlow pool as wide as the machine, two test processes on two cores
    would each run more threads than they have cores. A value the user set
    is kept; TensorFlow's pools follow ``OMP_NUM_THREADS``
    (:mod:`skmnist._backend`).
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers <= 1:
        return
    share = max(1, len(os.sched_getaffinity(0)) // workers)
    if "OPENBLAS_NUM_THREADS" not in os.environ:  # NumPy's, loaded already
        threadpool_limits(share, user_api="blas")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(share))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if MNIST_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mnist)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # one process (-n0): name order
        rank = {name: i for i, name in enumerate(SLOWEST_FILES_FIRST)}
        items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


# -- MNIST -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mnist_home():
    """The directory fetch_mnist reads the real MNIST files from (never written to
    by a test).

    ``SKMNIST_DATA`` when set: the files must be there, or the test fails.
    Otherwise the default data home, downloading the files when missing; if
    they can be neither found nor downloaded the test is skipped, unless
    ``SKMNIST_REQUIRE_MNIST=1``.
    """
    env = os.environ.get("SKMNIST_DATA")
    default = Path(get_data_home()) / "mnist"
    how = _HOW_TO_PROVIDE.format(files=", ".join(_mirror.MNIST_FILES), default=default)
    if env:
        home = Path(env).expanduser()
        try:
            fetch_mnist("all", data_home=home, download_if_missing=False)
        except (OSError, ValueError) as exc:
            pytest.fail(
                f"SKMNIST_DATA={env} does not hold readable MNIST files ({exc}). "
                f"These tests read the real MNIST files: {how}.",
                pytrace=False,
            )
        return home
    try:
        # Bounded: one retry per mirror and a short socket timeout, so an
        # offline machine whose connections hang gives up within minutes.
        fetch_mnist("all", data_home=default, n_retries=1, timeout=10.0)
    except OSError as exc:
        message = (
            f"the real MNIST files are neither in {default} nor downloadable "
            f"({type(exc).__name__}: offline?); {how}"
        )
        if os.environ.get("SKMNIST_REQUIRE_MNIST") == "1":
            pytest.fail(f"SKMNIST_REQUIRE_MNIST=1: {message}", pytrace=False)
        pytest.skip(f"needs MNIST: {message}")
    return default


@pytest.fixture(scope="session")
def mnist_train(mnist_home):
    return fetch_mnist("train", data_home=mnist_home, return_X_y=True)


@pytest.fixture(scope="session")
def mnist_test(mnist_home):
    return fetch_mnist("test", data_home=mnist_home, return_X_y=True)


# -- The design card's search, computed once per test session ----------------------


@pytest.fixture(scope="session")
def search_data(mnist_train):
    """The first 3,000 MNIST training images and labels, to search on."""
    X, y = mnist_train
    return X[:3000], y[:3000]


@pytest.fixture(scope="session")
def make_search():
    """Make the design card's search, ``GridSearchCV(**params)``.

    It searches ``mlp__epochs`` (1, 3) x ``mlp__hidden_layer_sizes``
    ((16,), (32, 64)) over 3 shuffled stratified folds; ``skmnist search
    --epochs 1,3 --hidden-layer-sizes 16 32,64 --cv 3 --random-state 0`` is
    the same search.
    """

    def make(**params):
        return GridSearchCV(
            make_mnist_pipeline(random_state=0),
            {"mlp__epochs": [1, 3], "mlp__hidden_layer_sizes": [(16,), (32, 64)]},
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
            **params,
        )

    return make


def _run_local_search(make_search, search_data, mnist_test):
    search = make_search(n_jobs=1).fit(*search_data)
    X_test, y_test = mnist_test
    return {
        "best_params": {
            "mlp__epochs": search.best_params_["mlp__epochs"],
            "mlp__hidden_layer_sizes": list(
                search.best_params_["mlp__hidden_layer_sizes"]
            ),
        },
        "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
        "test_score": float(search.score(X_test[:2000], y_test[:2000])),
    }


@pytest.fixture(scope="session")
def local_search(make_search, search_data, mnist_test, tmp_path_factory):
    """That search on ``search_data``, in one process, once per test session.

    Returns what the tests compare: ``best_params`` (widths as tuples),
    ``mean_test_score`` (in grid order) and ``test_score`` (the refitted best
    pipeline on the first 2,000 test images). Under pytest-xdist the first
    worker to ask runs the search and stores the result as JSON beside the
    workers' temporary directories; the others wait on a file lock and read it.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        result = _run_local_search(make_search, search_data, mnist_test)
    else:
        from filelock import FileLock

        shared = tmp_path_factory.getbasetemp().parent / "local_search.json"
        with FileLock(str(shared) + ".lock", timeout=1800):
            if shared.is_file():
                result = json.loads(shared.read_text())
            else:
                result = _run_local_search(make_search, search_data, mnist_test)
                shared.write_text(json.dumps(result))
    params = result["best_params"]
    params["mlp__hidden_layer_sizes"] = tuple(params["mlp__hidden_layer_sizes"])
    return result


# -- scikit-learn's digits ---------------------------------------------------------


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits as images (n, 8, 8) with pixels 0..16."""
    data = load_digits()
    return data.images, data.target


@pytest.fixture(scope="session")
def digits_flat():
    """The 8x8 digits as rows of float32 pixels in [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


# -- Bad input: what the tables of tests/_bad_input.py are fed to ------------------


@pytest.fixture(scope="session")
def bad_input_data(digits):
    """(images as float64, rows scaled to [0, 1], labels) of the first digits."""
    images, y = digits
    n = _bad_input.N_BAD_INPUT
    images, y = images[:n].astype(np.float64), y[:n]
    return images, images.reshape(n, -1) / 16, y


@pytest.fixture(scope="session")
def bad_input_fitted(bad_input_data):
    """``{"flattener": ..., "classifier": ..., "pipeline": ...}``, fitted lazily."""
    return _bad_input.Fitted(bad_input_data)


@pytest.fixture
def mirror(mnist_home):
    """A real HTTP server on 127.0.0.1 serving the MNIST files of ``mnist_home``.

    Yields its base URL; ``base + "good/"`` serves the files, and the other
    behaviours of :class:`tests._mirror._MirrorHandler` misbehave in their own
    way.
    """
    with _mirror.serve(mnist_home) as base:
        yield base


# -- Directories a process cannot write -------------------------------------------


@pytest.fixture
def read_only_dir(tmp_path):
    """A real directory this process cannot write in, holding one file ``old``.

    As root (who may write through any mode bits) it is a tmpfs mounted
    read-only over a directory of ``tmp_path``; otherwise a directory of mode
    0555.
    """
    directory = tmp_path / "read-only"
    directory.mkdir()
    (directory / "old").write_bytes(b"old")
    if os.geteuid() != 0:
        directory.chmod(0o555)
        yield directory
        directory.chmod(0o755)
        return
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", directory], check=True
    )
    try:
        (directory / "old").write_bytes(b"old")
        subprocess.run(["mount", "-o", "remount,ro", directory], check=True)
        yield directory
    finally:
        subprocess.run(["umount", directory], check=True)


@pytest.fixture(params=["fit", "compiled"])
def training_path(request, monkeypatch):
    """Train through Keras' ``Model.fit``, or through skmnist's compiled epochs."""
    from skmnist import _epochs

    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", request.param == "compiled")
    return request.param


@pytest.fixture
def default_sigint():
    """SIGINT handled as in a plain Python process, whatever the test runner set."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
