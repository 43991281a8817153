"""Speed paths: feeding training data, compile options, a NumPy forward pass.

Keras' own array adapter shuffles with global random state (TensorFlow's
global seed, or NumPy's global generator on JAX), so a seeded fit would have
to set process-wide seeds. Here each fit shuffles with its own seed instead:

- on TensorFlow, an in-memory ``tf.data`` pipeline draws one permutation
  per epoch with a stateless shuffle, gathers each batch in parallel and
  prefetches the next one;
- on other backends, a ``keras.utils.PyDataset`` draws one permutation per
  epoch from a :class:`numpy.random.Generator` and serves array batches.

Both give every epoch a fresh order and the same orders for the same seed.

Prediction skips Keras: a stack of dense layers is evaluated in float64
NumPy from a copy of the learned weights, which answers one image in
microseconds instead of milliseconds, on every backend, and gives each row
the same result whatever else is in the batch.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import os

import keras
import numpy as np
from scipy.special import expit, softmax


def limit_threads():
    """Bound TensorFlow's thread pools by the process's thread budget.

    TensorFlow ignores threadpoolctl, so a joblib search with ``n_jobs=2`` on
    two cores would run two processes with two-thread pools each. joblib's
    worker processes carry their budget in ``OMP_NUM_THREADS`` (cores divided
    by workers); ``SKMNIST_NUM_THREADS`` overrides it. TensorFlow accepts the
    setting only before it runs its first operation, so it is applied when
    :mod:`skmnist.classifier` is imported, and skipped when that is too late.
    """
    budget = os.environ.get("SKMNIST_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if not budget or keras.backend.backend() != "tensorflow":
        return
    try:
        n = max(int(budget), 1)
    except ValueError:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:
        pass  # TensorFlow already runs with its pools: too late to change them


def training_data(
    X, y, sample_weight, *, batch_size, shuffle, seed, steps_per_execution
):
    """Batches of ``(X, y[, sample_weight])`` for ``Model.fit``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32
    y : ndarray of shape (n_samples,), int32
    sample_weight : ndarray of shape (n_samples,) or None
    batch_size : int
    shuffle : bool
        Draw a new order for every epoch.
    seed : int or None
        Seed of the shuffling; None draws fresh entropy.
    steps_per_execution : int
        The compiled model's steps per execution.

    Returns
    -------
    data : tf.data.Dataset or keras.utils.PyDataset
        What to pass to ``fit`` as ``x``.
    fit_kwargs : dict
        Extra ``fit`` arguments the data needs.
    """
    arrays = (
        (X, y) if sample_weight is None else (X, y, sample_weight.astype(np.float32))
    )
    if keras.backend.backend() != "tensorflow":
        return _ShuffledBatches(arrays, batch_size, shuffle, seed), {}
    # An endless dataset saves building an iterator every epoch (tens of
    # milliseconds each), but Keras runs whole executions of
    # steps_per_execution batches on it: only when they tile the epoch exactly
    # does every epoch still end on its own last batch.
    steps = math.ceil(len(X) / batch_size)
    endless = steps % steps_per_execution == 0
    data = _tf_dataset(arrays, batch_size, shuffle, seed, endless)
    return data, ({"steps_per_epoch": steps} if endless else {})


def compile_options(n_samples, batch_size):
    """``Model.compile`` defaults that make this backend fastest on small MLPs.

    Several steps per execution cut the per-batch overhead of the training
    loop. The count divides the number of batches in an epoch, so that epochs
    end where they should (see :func:`training_data`).
    """
    steps = math.ceil(n_samples / batch_size)
    per_execution = max(d for d in range(1, min(50, steps) + 1) if steps % d == 0)
    options = {"steps_per_execution": per_execution}
    if keras.backend.backend() == "tensorflow":
        # XLA only adds compile time to a network this small.
        options["jit_compile"] = False
    return options


def _tf_dataset(arrays, batch_size, shuffle, seed, endless):
    import tensorflow as tf

    tensors = tuple(tf.constant(a) for a in arrays)
    n = len(arrays[0])
    n_full = n // batch_size

    def epoch_order(epoch_seed):
        order = tf.range(n, dtype=tf.int64)
        if shuffle:
            pair = tf.stack([epoch_seed, tf.constant(0, tf.int64)])
            order = tf.random.experimental.stateless_shuffle(order, seed=pair)
        return order

    def batches_of(order):
        full = tf.reshape(order[: n_full * batch_size], (n_full, batch_size))
        batches = tf.data.Dataset.from_tensor_slices(full)
        if n % batch_size:
            batches = batches.concatenate(
                tf.data.Dataset.from_tensors(order[n_full * batch_size :])
            )
        return batches

    # One random draw per pass over the data (each repetition draws anew): a
    # new order every epoch, the same orders for the same seed, and no global
    # seed involved.
    data = (
        tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        .take(1)
        .map(epoch_order)
        .flat_map(batches_of)
        .map(
            lambda idx: tuple(tf.gather(t, idx) for t in tensors),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        .apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))
    )
    if endless:
        data = data.repeat()
    options = tf.data.Options()
    # Skips the graph rewrite pass, which only costs time on so small a pipeline.
    options.experimental_optimization.apply_default_optimizations = False
    return data.with_options(options).prefetch(tf.data.AUTOTUNE)


class _ShuffledBatches(keras.utils.PyDataset):
    """Array batches in a new order every epoch, drawn from a seeded generator."""

    def __init__(self, arrays, batch_size, shuffle, seed):
        super().__init__()
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = None
        self.on_epoch_end()

    def __len__(self):
        return math.ceil(len(self.arrays[0]) / self.batch_size)

    def __getitem__(self, index):
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return tuple(a[idx] for a in self.arrays)

    def on_epoch_end(self):
        n = len(self.arrays[0])
        self.order = self.rng.permutation(n) if self.shuffle else np.arange(n)


_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0, out=z),
    "tanh": lambda z: np.tanh(z, out=z),
    "sigmoid": lambda z: expit(z, out=z),
    "softmax": lambda z: softmax(z, axis=1),
}


def dense_stack(model):
    """The weights of ``model`` as float64 arrays, if NumPy can evaluate it.

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
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
        stack.append((kernel, bias, config["activation"]))
    return stack


def forward(stack, X):
    """Evaluate a :func:`dense_stack` on the rows of ``X``."""
    out = np.asarray(X, dtype=np.float64)
    for kernel, bias, activation in stack:
        out = out @ kernel
        out += bias
        out = _NUMPY_ACTIVATIONS[activation](out)
    return out
