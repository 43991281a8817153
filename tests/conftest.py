"""Shared fixtures: real MNIST from SKMNIST_DATA and scikit-learn's digits."""

import collections
import functools
import gzip
import http.server
import os
import socket
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skmnist import fetch_mnist, make_mnist_pipeline

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="session")
def mnist_home():
    """The read-only directory of the real MNIST files (never written to)."""
    home = os.environ.get("SKMNIST_DATA")
    if not home or not all((Path(home) / name).is_file() for name in MNIST_FILES):
        pytest.fail(
            "These tests read the real MNIST files: set SKMNIST_DATA to a directory "
            f"holding {', '.join(MNIST_FILES)} (in this repository's CI: ../shared/mnist)."
        )
    return Path(home)


@pytest.fixture(scope="session")
def mnist_train(mnist_home):
    return fetch_mnist("train", data_home=mnist_home, return_X_y=True)


@pytest.fixture(scope="session")
def mnist_test(mnist_home):
    return fetch_mnist("test", data_home=mnist_home, return_X_y=True)


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


@pytest.fixture(scope="session")
def local_search(make_search, search_data):
    """That search on ``search_data``, in this process."""
    return make_search(n_jobs=1).fit(*search_data)


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


class _MirrorHandler(http.server.BaseHTTPRequestHandler):
    """Serves the MNIST files under ``/<behaviour>/<file name>``.

    Behaviours: ``good``; ``403``; ``truncated`` (announces the full length,
    sends half); ``wrong`` (a valid gzip of bytes with one pixel changed, so
    the checksum fails); ``drop`` (resets the connection mid-transfer);
    ``stall`` (sends half, then nothing for longer than any test's timeout);
    ``flaky`` (503 on every other request). Anything else is a 404.
    """

    directory = None
    stall_seconds = 5.0
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
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
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

    def log_message(self, *args):
        pass


_BEHAVIOURS = ("good", "truncated", "wrong", "drop", "stall", "flaky")


@functools.lru_cache
def _wrong_bytes(path):
    data = bytearray(gzip.decompress(path.read_bytes()))
    data[-1] ^= 0xFF
    return gzip.compress(bytes(data), compresslevel=1)


@pytest.fixture
def mirror(mnist_home):
    """A real HTTP server on 127.0.0.1 serving the MNIST files.

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
    """Train through Keras' ``Model.fit``, or through skmnist's compiled epochs.

    The compiled loop normally starts at a few thousand steps; tests on small
    data set the threshold so that each path runs.
    """
    from skmnist import _fast

    threshold = 0 if request.param == "compiled" else 10**9
    monkeypatch.setattr(_fast, "MIN_COMPILED_STEPS", threshold)
    return request.param
