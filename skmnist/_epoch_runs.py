"""Epoch runs: many epochs in one compiled call, the stopping rule in the program.

The compiled epochs (:mod:`skmnist._epochs`) return to Python after every
epoch, for the records, the stopping rule and the callbacks. On small data,
where an epoch is a batch or a few, that return costs more than the epoch
(about 4 ms against a fraction of one). A fit that needs nothing from Python
between its epochs (no callbacks, nothing printed, nothing held out, no
augmentation, a learning rate no schedule changes between epochs, only full
batches) runs here instead: :func:`train` calls a program that runs up to
`MAX_CALL_STEPS` batches' worth of epochs, each from its metrics reset to
its last step, and keeps each epoch's metric variables in arrays it
returns. On TensorFlow the program is an XLA-compiled pair of nested
``tf.while_loop``; on JAX a jitted ``lax.while_loop`` around
``lax.fori_loop``; both step Keras' own ``train_step``, as the compiled
epochs do, on the batches of the same orders (one ``rng.permutation`` an
epoch from the fit's seeded generator, drawn on the host). Each epoch's
logs (its loss and compiled metrics) are then computed from those
variables by Keras' own ``get_metrics_result``, for all the epochs of a
call at once, outside XLA on TensorFlow: inside the loop XLA divided a
total by its count one float32 rounding away from eager TensorFlow.

scikit-learn's training-loss rule (``tol``, ``n_iter_no_change``) runs in
the program in float32, slightly more ready to call an epoch stalled than
the same rule in float64, so that the program stops at or before the
epoch where the rule in Python stops. The returned logs are then replayed,
epoch by epoch, through the fit's own callback (:class:`skmnist._training.Monitor`),
which keeps the records and decides in float64 as it does after any other
loop; when it has not stopped, the next call goes on from its exact state.
The models, records and warnings are those of the compiled epochs, bit for
bit. Ctrl-C is honoured between calls, each of which is kept short (about
`CALL_SECONDS`), and the model is current after each.

A program serves one network (the compiled epochs' program holds it, see
:func:`skmnist._epochs._program`); the rows of a fit are padded with zeros
to a power of two, so fits of about the same size (the folds of a search)
share its compiled code.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import time

import keras
import numpy as np

from . import _aligned, _compat, _epochs

# False: every fit the compiled epochs train returns after each epoch (the
# tests compare the two).
EPOCH_RUNS = True
# Batches one call steps through at most (the length of its arrays).
MAX_CALL_STEPS = 2048
# The first call's batches: the time a step takes is not known yet.
FIRST_CALL_STEPS = 256
# Later calls are sized to take about this long: Ctrl-C waits for one.
CALL_SECONDS = 0.2
# Fits with longer epochs return after each: the return costs little there.
MAX_EPOCH_STEPS = _epochs.CHUNK_BATCHES
# Rows are copied, padded, for the program: no more than this.
MAX_PADDED_BYTES = 64 * 2**20
# How much more ready than Python's float64 rule the program's float32 rule
# is to call an epoch stalled, relative to the loss and tol: more than
# float32's rounding of the threshold, far less than any tol that matters.
_SLACK = 1e-6
# The largest n_iter_no_change the program's int32 counter holds.
_MAX_PATIENCE = 2**31 - 2


def can_train(n_rows, row_bytes, batch_size):
    """Whether a fit of ``n_rows`` rows can train in epoch runs.

    Every batch must be full (an epoch's partial last batch runs outside
    XLA), epochs short (at most `MAX_EPOCH_STEPS` batches) and the padded
    copy of the rows small.
    """
    steps, rest = divmod(n_rows, batch_size)
    return (
        EPOCH_RUNS
        and rest == 0
        and steps <= MAX_EPOCH_STEPS
        and _padded_rows(n_rows) * row_bytes <= MAX_PADDED_BYTES
    )


def train(
    model,
    X,
    y,
    sample_weight,
    *,
    batch_size,
    epochs,
    initial_epoch,
    shuffle,
    seed,
    judge,
):
    """Train ``model`` from ``initial_epoch`` to at most ``epochs``, in epoch runs.

    The parameters are those of :func:`skmnist._epochs.train`, for a fit
    :func:`can_train` accepts; ``judge`` is the fit's only callback, a
    :class:`skmnist._training.Monitor`: it sees every epoch's end, and its
    ``rule_state()`` seeds each call's stopping rule. Returns the
    ``History.history`` dict.
    """
    n = len(X)
    epoch_steps = n // batch_size
    arrays = _epochs._training_arrays(X, y, sample_weight)
    key = _epochs._program_key(model, X, sample_weight is not None, batch_size)
    backend = keras.backend.backend()
    program = _epochs._program(key, _epochs._PROGRAMS[backend], model, batch_size)
    _compat.symbolic_build(model, tuple(a[:1] for a in arrays))
    on_device = program.put(_padded(arrays))
    history = keras.callbacks.History()
    callbacks = keras.callbacks.CallbackList(
        [judge, history], model=model, epochs=epochs, steps=epoch_steps
    )
    model.stop_training = False
    orders = _Orders(n, shuffle, seed, initial_epoch)
    callbacks.on_train_begin()
    epoch, logs, call_steps = initial_epoch, {}, FIRST_CALL_STEPS
    while epoch < epochs and not model.stop_training:
        count = min(epochs - epoch, max(1, call_steps // epoch_steps))
        start = time.perf_counter()
        runs = _call(program, model, on_device, orders.take(epoch, count), judge)
        seconds = time.perf_counter() - start
        call_steps = _next_call_steps(len(runs) * epoch_steps, seconds)
        for i, logs in enumerate(runs):
            if model.stop_training:
                raise RuntimeError(
                    "the epoch runs' program trained past the epoch where the "
                    "stopping rule stopped; please report this"
                )
            callbacks.on_epoch_begin(epoch)
            if i == len(runs) - 1:  # Ctrl-C: honoured where the model is
                callbacks.on_train_batch_end(epoch_steps - 1, logs)
            callbacks.on_epoch_end(epoch, logs)
            epoch += 1
    callbacks.on_train_end(logs)
    return history.history


def _call(program, model, arrays, orders, judge):
    """Run the epochs of ``orders`` (one row each) in one call: their logs."""
    batch_size = program.batch_size
    index = np.zeros((MAX_CALL_STEPS * batch_size,), np.int32)
    index[: orders.size] = orders.ravel()
    index = index.reshape(MAX_CALL_STEPS, batch_size)
    tol, patience, best, count = judge.rule_state()
    rule = (
        np.float32(tol),
        np.int32(min(patience, _MAX_PATIENCE)),
        np.float32(best),
        np.int32(count),
        np.float32(_SLACK),
    )
    epoch_steps = orders.shape[1] // batch_size  # every batch full
    with program.lock:  # fits in other threads may share the program
        if program.runs is None:
            program.runs = _RUNS[keras.backend.backend()](program)
        program.load(model)
        ran, records = program.runs(arrays, index, epoch_steps, len(orders), rule)
        program.sync(model)
    return [{k: float(v[i]) for k, v in records.items()} for i in range(ran)]


def _next_call_steps(steps, seconds):
    """Batches for the next call, to take about `CALL_SECONDS`."""
    if seconds <= 0:
        return MAX_CALL_STEPS
    return int(min(MAX_CALL_STEPS, max(1, steps * CALL_SECONDS / seconds)))


def _padded_rows(n):
    """``n`` rounded up to a power of two."""
    return 1 << max(0, n - 1).bit_length()


def _padded(arrays):
    """``arrays`` with zero rows appended, to `_padded_rows` rows."""
    rows = _padded_rows(len(arrays[0]))
    padded = []
    for a in arrays:
        copy = _aligned.empty((rows, *a.shape[1:]), a.dtype)  # read in place
        copy[: len(a)] = a
        copy[len(a) :] = 0
        padded.append(copy)
    return tuple(padded)


class _Orders:
    """Each epoch's order of the rows, drawn as :func:`skmnist._epochs.train` draws them.

    One permutation an epoch from one seeded generator, in the order of the
    epochs; those drawn for a call that stopped before them wait for the next.
    """

    def __init__(self, n, shuffle, seed, first_epoch):
        self.n = n
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.first = first_epoch  # the epoch of drawn[0]
        self.drawn = []

    def take(self, epoch, count):
        """The orders of epochs ``epoch`` to ``epoch + count - 1``, as rows."""
        del self.drawn[: epoch - self.first]
        self.first = epoch
        while len(self.drawn) < count:
            n = self.n
            order = self.rng.permutation(n) if self.shuffle else np.arange(n)
            self.drawn.append(order.astype(np.int32))
        return np.stack(self.drawn[:count])


def _stopping_rule(loss, best, count, tol, patience, slack):
    """One epoch of the training-loss rule in a program: ``(best, count, stop)``.

    As :meth:`skmnist._training.Monitor.on_epoch_end`, but calling an epoch
    stalled also when its loss misses the threshold by less than a margin
    (`_SLACK`) that float32's rounding could not cross.
    """
    ops = keras.ops
    finite = ops.isfinite(best)
    slack = ops.where(finite, slack * (ops.abs(best) + ops.abs(tol)), 0.0)
    stalled = ops.greater(loss, best - tol - slack)
    best = ops.where(ops.less(loss, best), loss, best)  # Python's min(best, loss)
    count = ops.where(stalled, count + 1, 0)
    return best, count, ops.greater(count, patience)


class _TensorFlowRuns:
    """A TensorFlow program's epoch runs: XLA-compiled nested ``tf.while_loop``.

    Runs the network of ``program`` (a :class:`skmnist._epochs._TensorFlowEpochs`)
    with its step: the trace its graph function holds, or Keras' step traced
    in the loop with dropout, as its compiled epochs do.
    """

    def __init__(self, program):
        import tensorflow as tf

        self.tf = tf
        self.program = program
        self.function = tf.function(self._runs, jit_compile=True, autograph=False)
        # Not XLA: it divides as eager TensorFlow does (XLA, in the loop, did not).
        self.results = tf.function(
            lambda values: tf.vectorized_map(
                lambda one: _metrics_result(program.model, one), values
            ),
            jit_compile=False,
            autograph=False,
        )

    def _runs(self, arrays, index, epoch_steps, n_epochs, rule):
        tf, copy, program = self.tf, self.program.model, self.program
        train_step = copy.train_step if program.dropout else program.last
        tol, patience, best, count, slack = rule

        def epoch(e, best, count, stop, records):
            copy.reset_metrics()

            def step(i):
                rows = index[e * epoch_steps + i]
                train_step(tuple(tf.gather(a, rows) for a in arrays))
                return (i + 1,)

            tf.while_loop(lambda i: i < epoch_steps, step, (tf.constant(0),))
            at = tf.reshape(e, (1, 1))
            records = tuple(
                tf.tensor_scatter_nd_update(r, at, v.value[None])
                for v, r in zip(copy.metrics_variables, records, strict=True)
            )
            loss = copy.get_metrics_result()["loss"]
            best, count, stop = _stopping_rule(loss, best, count, tol, patience, slack)
            return e + 1, best, count, stop, records

        records = tuple(
            tf.zeros((MAX_CALL_STEPS, *v.shape), v.dtype)
            for v in copy.metrics_variables
        )
        ran, *_, records = tf.while_loop(
            lambda e, best, count, stop, records: (e < n_epochs) & ~stop,
            epoch,
            (tf.constant(0), best, count, tf.constant(False), records),
        )
        return ran, records

    def __call__(self, arrays, index, epoch_steps, n_epochs, rule):
        tf = self.tf
        self.program._trace_step(arrays)
        args = (tf.constant(index), tf.constant(epoch_steps), tf.constant(n_epochs))
        rule = tuple(tf.constant(v) for v in rule)
        _epochs._in_program.active = True
        try:
            ran, records = self.function(arrays, *args, rule)
        finally:
            _epochs._in_program.active = False
        logs = self.results(records)
        return int(ran), {k: v.numpy() for k, v in logs.items()}


class _JaxRuns:
    """A JAX program's epoch runs: a jitted ``lax.while_loop`` of ``lax.fori_loop``.

    Runs the state of ``program`` (a :class:`skmnist._epochs._JaxEpochs`)
    through its network's stateless ``train_step``.
    """

    def __init__(self, program):
        import jax

        self.jax = jax
        self.program = program
        self.function = jax.jit(self._runs)
        copy = program.model
        self.results = jax.jit(jax.vmap(lambda one: _metrics_result(copy, one)))

    def _runs(self, state, arrays, index, epoch_steps, n_epochs, rule):
        jax, copy = self.jax, self.program.model
        tol, patience, best, count, slack = rule

        def epoch(carry):
            e, state, best, count, stop, records = carry
            state = (*state[:3], _reset_metrics(copy, state[3]))

            def step(i, state):
                rows = index[e * epoch_steps + i]
                return copy.train_step(state, tuple(a[rows] for a in arrays))[1]

            state = jax.lax.fori_loop(0, epoch_steps, step, state)
            records = [r.at[e].set(v) for r, v in zip(records, state[3], strict=True)]
            loss = _metrics_result(copy, state[3])["loss"]
            best, count, stop = _stopping_rule(loss, best, count, tol, patience, slack)
            return e + 1, state, best, count, stop, records

        jnp = jax.numpy
        records = [jnp.zeros((MAX_CALL_STEPS, *v.shape), v.dtype) for v in state[3]]
        ran, state, *_, records = jax.lax.while_loop(
            lambda carry: (carry[0] < n_epochs) & ~carry[4],
            epoch,
            (jnp.int32(0), state, best, count, jnp.bool_(False), records),
        )
        return state, ran, records

    def __call__(self, arrays, index, epoch_steps, n_epochs, rule):
        program = self.program
        program.state, ran, records = self.function(
            program.state,
            arrays,
            index,
            np.int32(epoch_steps),
            np.int32(n_epochs),
            rule,
        )
        return int(ran), {k: np.asarray(v) for k, v in self.results(records).items()}


def _metrics_result(model, values):
    """``model.get_metrics_result()`` were its metrics' variables ``values``."""
    mapping = list(zip(model.metrics_variables, values, strict=True))
    with keras.StatelessScope(state_mapping=mapping):
        return model.get_metrics_result()


def _reset_metrics(model, values):
    """The values of ``model``'s metrics' variables (now ``values``) once reset."""
    mapping = list(zip(model.metrics_variables, values, strict=True))
    with keras.StatelessScope(state_mapping=mapping) as scope:
        model.reset_metrics()
    reset = []
    for variable, value in mapping:
        new = scope.get_current_value(variable)
        reset.append(value if new is None else new)
    return reset


_RUNS = {"tensorflow": _TensorFlowRuns, "jax": _JaxRuns}
