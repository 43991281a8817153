"""Optional dependencies: import one, or say which extra of skmnist installs it.

Used by the modules that need an extra and by the console script, which asks
before it starts Keras, so that a missing extra fails at once.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

ONNX_INSTALL = 'pip install "skmnist[onnx]"'


def import_onnx():
    """The onnx package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            f"skmnist.to_onnx needs the onnx package, which is not installed "
            f"({exc}). Install skmnist's onnx extra: {ONNX_INSTALL} (it brings "
            "onnx and onnxruntime)."
        ) from exc
    return onnx
