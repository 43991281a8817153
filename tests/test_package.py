import subprocess
import sys

import pytest

import skmnist


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout


def test_import_leaves_keras_and_tensorflow_out():
    out = _run(
        "import sys, skmnist\n"
        "from skmnist import fetch_mnist, ImageFlattener, make_mnist_pipeline\n"
        "import skmnist.datasets, skmnist.preprocessing, skmnist.pipeline, skmnist.cli\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'scikeras') if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_to_onnx_loads_neither_keras_nor_onnx_until_called():
    out = _run(
        "import sys, skmnist\n"
        "from skmnist import to_onnx\n"
        "print(to_onnx.__module__, sorted(m for m in ('tensorflow', 'keras', 'onnx', "
        "'onnxruntime') if m in sys.modules))"
    )
    assert out.split(maxsplit=1) == ["skmnist.onnx", "[]\n"]


def test_classifier_is_loaded_on_first_use():
    out = _run(
        "import sys, skmnist\n"
        "cls = skmnist.KerasMLPClassifier\n"
        "import skmnist.classifier as face\n"
        "print(cls.__module__, 'keras' in sys.modules, skmnist.MLPClassifier.__module__,"
        " face.MLPClassifier is skmnist.MLPClassifier)"
    )
    assert out.split() == [
        "skmnist.classifier",
        "True",
        "skmnist.neural_network",
        "True",
    ]


def test_public_names():
    assert skmnist.__all__ == sorted(
        [
            "fault_tolerant_client",
            "fetch_mnist",
            "ImageFlattener",
            "ImageAugmentation",
            "KerasMLPClassifier",
            "load",
            "make_mnist_pipeline",
            "MLPClassifier",
            "read_model_file",
            "save",
            "to_onnx",
        ]
    )
    assert set(skmnist.__all__) <= set(dir(skmnist))
    assert skmnist.__version__
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = skmnist.nope
