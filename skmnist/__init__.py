"""skmnist: the classic Keras MNIST network as a scikit-learn estimator.

The public names are imported lazily, so that ``import skmnist`` does not
import Keras or TensorFlow; the classifier loads them on first use.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import importlib

from . import _startup_logs

__version__ = "0.1.0"

_PUBLIC = {
    "fetch_mnist": "datasets",
    "ImageFlattener": "preprocessing",
    "ImageAugmentation": "augmentation",
    "KerasMLPClassifier": "classifier",
    "MLPClassifier": "neural_network",
    "make_mnist_pipeline": "pipeline",
    "save": "persistence",
    "load": "persistence",
    "read_model_file": "persistence",
    "fault_tolerant_client": "distributed",
    "to_onnx": "onnx",
}

__all__ = sorted(_PUBLIC)

_startup_logs.install()


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'skmnist' has no attribute {name!r}")
    module = importlib.import_module(f".{_PUBLIC[name]}", __name__)
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
