"""Shared fixtures: real MNIST from SKMNIST_DATA and scikit-learn's digits."""

import functools
import http.server
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skmnist import fetch_mnist

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
def digits():
    """scikit-learn's 8x8 digits as images (n, 8, 8) with pixels 0..16."""
    data = load_digits()
    return data.images, data.target


@pytest.fixture(scope="session")
def digits_flat():
    """The 8x8 digits as rows of float32 pixels in [0, 1]."""
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y


class _MirrorHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files from a directory under /good/; anything else is a 404."""

    def translate_path(self, path):
        prefix = "/good/"
        if not path.startswith(prefix):
            return "/nonexistent"
        return str(Path(self.directory) / Path(path[len(prefix) :]).name)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(mnist_home):
    """A real HTTP server on 127.0.0.1 serving the MNIST files.

    Yields its base URL; ``base + "good/"`` serves the files, any other
    path answers 404.
    """
    handler = functools.partial(_MirrorHandler, directory=str(mnist_home))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
