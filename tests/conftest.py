"""Shared fixtures and helpers: real MNIST, scikit-learn's digits, the search.

MNIST is found as :func:`skmnist.fetch_mnist` finds it: ``SKMNIST_DATA``, else
``sklearn.datasets.get_data_home()/mnist`` (downloading there when missing).
Tests that need the files are marked ``mnist`` (automatically, when they use
the ``mnist_home`` fixture or one built on it). Without the files:

- ``SKMNIST_DATA`` set (as in CI) or ``SKMNIST_REQUIRE_MNIST=1``: they fail;
- otherwise (offline, nothing in the data home): they are skipped, with a
  reason that says how to provide the files.
"""

import collections
import dataclasses
import functools
import gzip
import http.server
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import get_data_home, load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skmnist import ImageFlattener, KerasMLPClassifier, fetch_mnist, make_mnist_pipeline

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

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
# and test_examples for last). The longest files go first, so that the last a
# worker takes is short and the two finish together; the others follow in
# name order. Seconds a file takes in one process on 2 cores, roughly:
SLOWEST_FILES_FIRST = (
    "test_estimator_checks.py",  # 135
    "test_distributed.py",  # 135 (with the session's local search)
    "test_cli.py",  # 120
    "test_sklearn_workflows.py",  # 110
    "test_epochs.py",  # 80
    "test_training.py",  # 65
    "test_interrupt.py",  # 45
    "test_examples.py",  # 45
    "test_mlp_classifier.py",  # 40
    "test_datasets.py",  # 40
    "test_persistence.py",  # 40
    "test_classifier.py",  # 35
)


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
    how = _HOW_TO_PROVIDE.format(files=", ".join(MNIST_FILES), default=default)
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


# -- Bad input: the tables shared by the module files ------------------------------
#
# Every case names where the bad input goes in, what it is, the exception
# expected and words its message must contain. Each module's test file runs
# the cases of its own entry points: the flattener's in test_preprocessing,
# the classifier's in test_classifier and test_targets, the pipeline's in
# test_pipeline.

N_BAD_INPUT = 120  # digits used to fit


@pytest.fixture(scope="session")
def bad_input_data(digits):
    """(images as float64, rows scaled to [0, 1], labels) of the first digits."""
    images, y = digits
    images, y = images[:N_BAD_INPUT].astype(np.float64), y[:N_BAD_INPUT]
    return images, images.reshape(N_BAD_INPUT, -1) / 16, y


class _Fitted(dict):
    """The fitted flattener, classifier and pipeline, each fitted on first use."""

    def __init__(self, data):
        super().__init__()
        self._data = data

    def __missing__(self, owner):
        images, rows, y = self._data
        self[owner] = {
            "flattener": lambda: ImageFlattener().fit(images),
            "classifier": lambda: KerasMLPClassifier(epochs=1, random_state=0).fit(
                rows, y
            ),
            "pipeline": lambda: make_mnist_pipeline(epochs=1, random_state=0).fit(
                images, y
            ),
        }[owner]()
        return self[owner]


@pytest.fixture(scope="session")
def bad_input_fitted(bad_input_data):
    """``{"flattener": ..., "classifier": ..., "pipeline": ...}``, fitted lazily."""
    return _Fitted(bad_input_data)


def _set(value):
    def make(X):
        X = X.astype(object) if isinstance(value, str) else X.copy()
        X.flat[5] = value
        return X

    return make


# Bad X, for every entry point: (case, make bad X from good X, error, message)
BAD_X = [
    ("NaN pixel", _set(np.nan), ValueError, "Input X contains NaN"),
    ("inf pixel", _set(np.inf), ValueError, "Input X contains infinity"),
    ("strings", lambda X: X.astype(str), ValueError, "string"),
    ("complex", lambda X: X + 1j, ValueError, "Complex data not supported"),
    (
        "object with text",
        _set("ink"),
        ValueError,
        "could not convert string to float: 'ink'",
    ),
    ("ragged list", lambda X: [[1.0, 2.0], [3.0]], ValueError, "inhomogeneous"),
    ("empty", lambda X: X[:0], ValueError, "0 sample"),
    ("1-D", lambda X: X.ravel()[:64], ValueError, "Expected 2D array, got 1D"),
    ("None", lambda X: None, ValueError, "Expected 2D array"),
    ("scalar", lambda X: 7.0, ValueError, "Expected 2D array"),
]
BAD_X_IDS = [case[0] for case in BAD_X]

# Pixels out of range: the flattener's concern (the classifier takes any reals).
BAD_PIXELS = [
    ("negative pixel", _set(-3.0), "Negative values in data passed to ImageFlattener"),
    ("pixel above 255", _set(300.0), "Pixel values up to 300.*Set max_value"),
]
BAD_PIXELS_IDS = [case[0] for case in BAD_PIXELS]

_LABELS = object()


def call_entry_point(fitted, data, owner, method, X, y=_LABELS):
    """Call ``owner.method`` on X: ``fit`` on a new estimator, else the fitted one."""
    images, rows, labels = data
    y = labels[: _len(X)] if y is _LABELS else y
    if method == "fit":
        est = {
            "flattener": ImageFlattener(),
            "classifier": KerasMLPClassifier(epochs=1),
            "pipeline": make_mnist_pipeline(epochs=1),
        }[owner]
        return est.fit(X) if owner == "flattener" else est.fit(X, y)
    est = fitted[owner]
    return est.transform(X) if owner == "flattener" else est.predict(X)


def _len(X):
    try:
        return len(X)
    except TypeError:
        return N_BAD_INPUT


def assert_rows_answer_as_in_the_whole(estimator, X):
    """Each row's probabilities the same, bit for bit, whatever else is in the
    batch: one row, a few, hundreds, at several offsets, against all of ``X``."""
    everything = estimator.predict_proba(X)
    for start, stop in [(0, 1), (5, 6), (3, 40), (100, 700), (1000, len(X))]:
        np.testing.assert_array_equal(
            estimator.predict_proba(X[start:stop]), everything[start:stop]
        )


# Random arrays of any dtype and shape, for the property-based tests.
def random_arrays():
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(
        dtype=st.one_of(
            hnp.integer_dtypes(),
            hnp.floating_dtypes(),
            hnp.boolean_dtypes(),
            hnp.complex_number_dtypes(),
            hnp.unicode_string_dtypes(max_len=3),
        ),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    )


def property_settings():
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


# -- The console script ------------------------------------------------------------

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


# -- Peak memory and time of a hostile input -----------------------------------------

_MEASURE = """
import resource, subprocess, sys, time
limit = int(sys.argv[1]) * 2**20
start = time.perf_counter()
child = subprocess.run(
    sys.argv[2:],
    capture_output=True,
    preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_DATA, (limit, limit)),
)
seconds = time.perf_counter() - start
sys.stdout.buffer.write(child.stdout)
sys.stderr.buffer.write(child.stderr)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stderr.write(f"\\nMEASURED {child.returncode} {peak_kb} {seconds}\\n")
"""


@dataclasses.dataclass
class Measured:
    """What :func:`measure` saw of a process: its exit, output, peak memory and time."""

    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float


def measure(argv, *, timeout, limit_mb=8192, env=None):
    """Run ``argv`` in a fresh process; return its peak resident memory and time.

    A wrapper process runs it as its only child and reads the child's peak
    resident set from the kernel. The child's heap is capped at ``limit_mb``
    (``RLIMIT_DATA``), so that a regression fails the test with a
    ``MemoryError`` instead of exhausting the machine; ``timeout`` bounds its
    time.
    """
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(limit_mb), *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    stderr, _, tail = result.stderr.rpartition("\nMEASURED ")
    returncode, peak_kb, seconds = tail.split()
    return Measured(
        int(returncode), result.stdout, stderr, int(peak_kb) / 1024, float(seconds)
    )


def measure_python(code, args=(), **kwargs):
    """:func:`measure` of ``python -c code *args``."""
    return measure([sys.executable, "-c", code, *args], **kwargs)


# -- A local HTTP mirror -----------------------------------------------------------


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves the MNIST files under ``/<behaviour>/<file name>``.

    Behaviours: ``good``; ``403``; ``truncated`` (announces the full length,
    sends half); ``wrong`` (a valid gzip of bytes with one pixel changed, so
    the checksum fails); ``drop`` (resets the connection mid-transfer);
    ``stall`` (sends half, then nothing for longer than any test's timeout);
    ``flaky`` (503 on every other request); ``endless`` (the file, then zeros
    without end and without a Content-Length); ``endless-length`` (the same,
    announcing a Content-Length of a terabyte); ``trickle`` (the file, one byte
    every ``trickle_interval`` seconds). Anything else is a 404.

    The endless and trickling ones stop by themselves: after ``endless_bytes``
    bytes or ``endless_seconds`` seconds, and after ``trickle_seconds``.
    """

    directory = None
    stall_seconds = 5.0
    endless_bytes = 50 * 2**20
    endless_seconds = 60.0
    trickle_interval = 0.2
    trickle_seconds = 60.0
    _requests = collections.Counter()

    def do_GET(self):
        _, behaviour, name = (self.path.split("/", 2) + ["", ""])[:3]
        path = Path(self.directory) / Path(name).name
        if behaviour == "403":
            return self.send_error(403, "Forbidden")
        if behaviour == "flaky":
            self._requests[name] += 1
            if self._requests[name] % 2:
                return self.send_error(503, "Service Unavailable")
        if not path.is_file() or behaviour not in _BEHAVIOURS:
            return self.send_error(404, "Not Found")
        body = _wrong_bytes(path) if behaviour == "wrong" else path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if behaviour == "endless-length":
            self.send_header("Content-Length", str(2**40))
        elif behaviour != "endless":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.close_connection = True
        try:
            if behaviour.startswith("endless"):
                return self._endless(body)
            if behaviour == "trickle":
                return self._trickle(body)
        except OSError:  # the client gave up: what these behaviours wait for
            return
        if behaviour in ("good", "wrong", "flaky"):
            self.wfile.write(body)
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        if behaviour == "stall":
            time.sleep(self.stall_seconds)
        elif behaviour == "drop":
            # SO_LINGER 0 makes close() reset the connection. Close the file
            # descriptor here: the server would otherwise end the connection
            # in order (FIN) before the reset, and the client might read that.
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            os.close(self.connection.detach())
        self.close_connection = True

    def _endless(self, body):
        self.wfile.write(body)
        zeros = bytes(2**16)
        sent, deadline = len(body), time.monotonic() + self.endless_seconds
        while sent < self.endless_bytes and time.monotonic() < deadline:
            self.wfile.write(zeros)
            sent += len(zeros)

    def _trickle(self, body):
        deadline = time.monotonic() + self.trickle_seconds
        for i in range(len(body)):
            if time.monotonic() > deadline:
                return
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            time.sleep(self.trickle_interval)

    def log_message(self, *args):
        pass


_BEHAVIOURS = (
    "good",
    "truncated",
    "wrong",
    "drop",
    "stall",
    "flaky",
    "endless",
    "endless-length",
    "trickle",
)


@functools.lru_cache
def _wrong_bytes(path):
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] ^= 0xFF
    return gzip.compress(bytes(data), compresslevel=1)


@pytest.fixture
def mirror(mnist_home):
    """A real HTTP server on 127.0.0.1 serving the MNIST files of ``mnist_home``.

    Yields its base URL; ``base + "good/"`` serves the files, and the other
    behaviours of :class:`_MirrorHandler` misbehave in their own way.
    """
    handler = type(
        "Handler",
        (_MirrorHandler,),
        {"directory": str(mnist_home), "_requests": collections.Counter()},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["fit", "compiled"])
def training_path(request, monkeypatch):
    """Train through Keras' ``Model.fit``, or through skmnist's compiled epochs."""
    from skmnist import _epochs

    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", request.param == "compiled")
    return request.param
