"""The network: dense layers built from the data's shape, and their weights.

The input width and the number of outputs are arguments, taken from the data
by the estimator; nothing here knows of images or of ten classes.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import keras
import numpy as np

# sklearn's MLPClassifier activation names, and the Keras name of each.
ACTIVATIONS = {
    "identity": "linear",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
}


def is_activation(name):
    """Whether ``name`` is an activation name of MLPClassifier's or of Keras'."""
    if name in ACTIVATIONS:
        return True
    try:
        keras.activations.get(name)
    except (ValueError, TypeError):
        return False
    return True


@keras.saving.register_keras_serializable(package="skmnist")
class _GlorotUniform(keras.initializers.Initializer):
    """Glorot-uniform weights drawn by NumPy from a seed.

    Keras' own initializers run the backend's random ops, which JAX first has
    to compile; NumPy draws at once, and the same seed gives the same initial
    weights on every backend.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        limit = np.sqrt(6 / (shape[0] + shape[-1]))
        values = np.random.default_rng(self.seed).uniform(-limit, limit, shape)
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


def build(*, n_features, n_outputs, hidden_layer_sizes, activation, dropout, l2, seed):
    """An uncompiled ``keras.Model``: dense hidden layers, then a softmax layer.

    Parameters
    ----------
    n_features, n_outputs : int
        Width of the input and of the softmax output.
    hidden_layer_sizes : tuple of int
        Units of each hidden layer.
    activation : str
        Activation of the hidden layers, an MLPClassifier or Keras name.
    dropout : float
        Dropout rate after each hidden layer while training (0 for none).
    l2 : float
        L2 penalty factor on each kernel (0 for none).
    seed : int or None
        Seeds every layer's initial weights and dropout masks.
    """
    n_seeds = 2 * len(hidden_layer_sizes) + 1  # each dense and each dropout layer
    if seed is None:
        seeds = iter([None] * n_seeds)
    else:
        rng = np.random.RandomState(seed)
        seeds = iter(rng.randint(np.iinfo(np.int32).max, size=n_seeds).tolist())
    regularizer = keras.regularizers.L2(l2) if l2 else None

    def dense(units, activation, name):
        return keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer=_GlorotUniform(next(seeds)),
            kernel_regularizer=regularizer,
            name=name,
        )

    inputs = keras.Input(shape=(n_features,), name="features")
    x = inputs
    for i, units in enumerate(hidden_layer_sizes):
        x = dense(units, ACTIVATIONS.get(activation, activation), f"hidden_{i + 1}")(x)
        seed = next(seeds)
        if dropout:
            x = keras.layers.Dropout(dropout, seed=seed, name=f"dropout_{i + 1}")(x)
    outputs = dense(n_outputs, "softmax", "probabilities")(x)
    return keras.Model(inputs, outputs, name="mlp")


def dense_weights(model):
    """The kernels and the biases of the model's dense layers, as NumPy arrays."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    coefs = [keras.ops.convert_to_numpy(layer.kernel) for layer in dense]
    intercepts = [keras.ops.convert_to_numpy(layer.bias) for layer in dense]
    return coefs, intercepts
