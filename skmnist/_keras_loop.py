"""Keras' own training loop: ``Model.fit`` on seeded, shuffled batches.

The fits the compiled epochs (:mod:`skmnist._epochs`) do not run train
here: those on sparse rows, with ``fit`` arguments only Keras understands,
or of a network the backend has no program for (:func:`skmnist._training.run`
decides). Keras' own array adapter shuffles with TensorFlow's global seed,
or NumPy's global generator on JAX; :func:`training_data` shuffles with the
fit's own seed instead, as the compiled epochs do, and densifies sparse
rows one batch at a time. :func:`compile_options` are the ``compile``
settings that make ``Model.fit`` fastest for the fits it runs.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import keras
import numpy as np
import scipy.sparse

from . import _compat, _epochs


def fit(
    model,
    X,
    y,
    sample_weight,
    fit_args,
    *,
    batch_size,
    shuffle,
    seed,
    validation_data,
    augmenter=None,
    **epochs,
):
    """Train ``model`` with ``Model.fit`` on :func:`training_data`: its history.

    ``fit_args`` are further ``Model.fit`` arguments; the others are those
    of :func:`skmnist._epochs.train` (bar ``by_step``).
    """
    data = training_data(
        X, y, sample_weight, batch_size=batch_size, shuffle=shuffle, seed=seed
    )
    data.augmenter = augmenter
    if scipy.sparse.issparse(X) and validation_data is not None:
        # Held-out rows too are densified one batch at a time.
        validation_data = training_data(
            *validation_data, None, batch_size=batch_size, shuffle=False, seed=None
        )
    # Keras on TensorFlow would create the optimizer's and the metrics'
    # variables inside its first trace, then trace its train function again.
    _compat.symbolic_build(model, data.first_rows())
    try:
        return model.fit(
            data, shuffle=False, validation_data=validation_data, **epochs, **fit_args
        ).history
    finally:
        data.release()
        if isinstance(validation_data, keras.utils.PyDataset):
            validation_data.release()


def training_data(X, y, sample_weight, *, batch_size, shuffle, seed):
    """Batches of ``(X, y[, sample_weight])`` for ``Model.fit``.

    A new order every epoch, drawn as :func:`skmnist._epochs.train` draws
    it: the same seed gives the same batches on either loop. A sparse ``X`` (CSR) is gathered
    and densified one batch at a time, never whole.
    """
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    return _ShuffledBatches(arrays, batch_size, shuffle, seed)


def compile_options(n_samples, batch_size, epochs):
    """``Model.compile`` defaults that make this backend fastest on small MLPs.

    Keras' ``fit`` trains the fits on sparse rows, which may be long, and
    those with arguments only it understands. Several steps per execution
    cut the per-batch overhead of a long fit; the count divides the number
    of batches in an epoch, so that every execution is whole and no shorter
    one has to be traced at an epoch's end. A short fit runs one step per
    execution: tracing Keras' loop over several steps costs more (about a
    second) than the overhead it saves.
    """
    steps = math.ceil(n_samples / batch_size)
    per_execution = 1
    if epochs * steps >= _epochs.MIN_COMPILED_STEPS:
        per_execution = max(d for d in range(1, min(50, steps) + 1) if steps % d == 0)
    options = {"steps_per_execution": per_execution}
    if keras.backend.backend() == "tensorflow":
        # For Model.fit's single steps, XLA only adds compile time.
        options["jit_compile"] = False
    return options


def _dense(a):
    return a.toarray() if scipy.sparse.issparse(a) else a


class _ShuffledBatches(keras.utils.PyDataset):
    """Array batches in a new order every epoch, drawn from a seeded generator."""

    def __init__(self, arrays, batch_size, shuffle, seed):
        super().__init__()
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = self._draw()
        self.served = 0
        # Augments each batch's rows (skmnist._augmenting.Augmenter), or None.
        self.augmenter = None

    def _draw(self):
        n = self.arrays[0].shape[0]
        return self.rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        return math.ceil(self.arrays[0].shape[0] / self.batch_size)

    def __getitem__(self, index):
        self.served += 1
        idx = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        batch = tuple(_dense(a[idx]) for a in self.arrays)
        if self.augmenter is None:
            return batch
        rows = keras.ops.convert_to_numpy(self.augmenter(batch[0]))
        return (rows, *batch[1:])

    def first_rows(self):
        """The first row of each array, dense: what Keras builds its state from."""
        return tuple(_dense(a[:1]) for a in self.arrays)

    def release(self):
        """Drop the arrays: TensorFlow's dataset of this generator outlives the fit."""
        self.arrays = None

    def on_epoch_end(self):
        if self.arrays is None:
            return
        # Keras on JAX first peeks at one batch, in an "epoch" of its own:
        # only a whole epoch moves on to the next order.
        if self.served >= len(self):
            self.order = self._draw()
        self.served = 0
