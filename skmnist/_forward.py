"""The NumPy forward pass that ``predict`` runs, and the weights it runs on.

Prediction skips Keras: a stack of dense layers is evaluated in NumPy, in
float32 as the network trained, from a copy of the learned weights
(:func:`dense_stack`). It answers one image in microseconds instead of
milliseconds, on every backend, and gives each row the same result, bit for
bit, whatever else is in the batch. :mod:`skmnist.onnx` writes the same
computation as an ONNX graph, from the same copy.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import keras
import numpy as np
import scipy.sparse
from scipy.special import expit


def _softmax(z):
    """Each row's softmax, in place (SciPy's takes twice as long on few rows)."""
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0, out=z),
    "tanh": lambda z: np.tanh(z, out=z),
    "sigmoid": lambda z: expit(z, out=z),
    "softmax": _softmax,
}


def dense_stack(model):
    """The weights of ``model`` as float32 arrays, if NumPy can evaluate it.

    Returns a list of ``(kernel, bias, activation)`` when the model is a chain
    of ``Dense`` layers (``Dropout`` layers, inactive at inference, may sit
    between them) with activations NumPy knows; ``None`` otherwise.
    """
    stack = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout)):
            continue
        if not isinstance(layer, keras.layers.Dense):
            return None
        config = layer.get_config()
        if config["activation"] not in _NUMPY_ACTIVATIONS or not config["use_bias"]:
            return None
        kernel, bias = (np.asarray(w, dtype=np.float32) for w in layer.get_weights())
        stack.append((kernel, bias, config["activation"]))
    return stack


def forward(stack, X, *, check_finite=False):
    """Evaluate a :func:`dense_stack` on float32 rows ``X`` (dense or sparse).

    Returns float64 probabilities: the layers run in float32, as the network
    trained, and the output activation in float64. Each dense row is
    multiplied on its own, a stack of one-row products in one NumPy call, so
    that its answer is the same, bit for bit, whatever else is in the batch:
    BLAS may round a row of a taller product by where the row sits in it,
    depending on the kernel it picks for the processor (OpenBLAS's Haswell
    kernels round rows 0-5 and 6-11 of 64 differently). A sparse ``X`` is
    multiplied as it is, a row at a time in SciPy's own loop: only the first
    layer's output, of the first layer's width, is dense.

    With ``check_finite``, returns None when a sum of the first layer is not
    finite: a NaN or an infinity in a row makes every sum of that row NaN or
    infinite, whatever the weights, so this checks ``X`` at a fraction of
    the cost of reading it again (huge finite rows may overflow a sum too:
    the caller then checks ``X`` itself).
    """
    n = X.shape[0]
    h = X if scipy.sparse.issparse(X) else X.reshape(n, 1, X.shape[1])
    *hidden, (_, bias, activation) = stack
    for depth, (w, b, a) in enumerate(stack):
        h = np.asarray(h @ w).reshape(n, 1, w.shape[1])
        if depth == 0 and check_finite and not np.isfinite(h).all():
            return None
        if depth < len(hidden):
            h += b
            h = _NUMPY_ACTIVATIONS[a](h)
    z = h.reshape(n, -1).astype(np.float64)
    z += bias
    return _NUMPY_ACTIVATIONS[activation](z)
