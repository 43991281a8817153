"""Backend-specific speed paths: feeding training data, compile options.

Keras' own array adapter shuffles with global random state (TensorFlow's
global seed, or NumPy's global generator on JAX), so a seeded fit would have
to set process-wide seeds. Here each fit shuffles with its own seed instead:

- on TensorFlow, an in-memory ``tf.data`` pipeline draws one permutation
  per epoch with a stateless shuffle, gathers each batch in parallel and
  prefetches the next one;
- on other backends, a generator draws one permutation per epoch from a
  :class:`numpy.random.Generator` and yields array batches.

Both give every epoch a fresh order and the same orders for the same seed.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import keras
import numpy as np


def training_data(X, y, sample_weight, *, batch_size, shuffle, seed):
    """Batches of ``(X, y[, sample_weight])`` for ``keras.Model.fit``.

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

    Returns
    -------
    data : tf.data.Dataset or generator
        What to pass to ``fit`` as ``x``.
    fit_kwargs : dict
        Extra ``fit`` arguments the data needs (``steps_per_epoch``).
    """
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight.astype(np.float32))
    if keras.backend.backend() == "tensorflow":
        return _tf_dataset(arrays, batch_size, shuffle, seed), {}
    steps = math.ceil(len(X) / batch_size)
    return _epochs_of_batches(arrays, batch_size, shuffle, seed), {"steps_per_epoch": steps}


def _tf_dataset(arrays, batch_size, shuffle, seed):
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

    # One random draw per pass over the dataset: a new order every epoch, the
    # same sequence of orders for the same seed, and no global seed involved.
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
    options = tf.data.Options()
    # Skips the graph rewrite pass, which only costs time on so small a pipeline.
    options.experimental_optimization.apply_default_optimizations = False
    return data.with_options(options).prefetch(tf.data.AUTOTUNE)


def compile_options():
    """``Model.compile`` defaults that make this backend fastest on small MLPs."""
    options = {"steps_per_execution": 50}
    if keras.backend.backend() == "tensorflow":
        # XLA only adds compile time to a network this small.
        options["jit_compile"] = False
    return options


def _epochs_of_batches(arrays, batch_size, shuffle, seed):
    """An endless stream of batches, epoch after epoch."""
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    while True:
        order = rng.permutation(n) if shuffle else np.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield tuple(a[idx] for a in arrays)
