"""Compiled epochs: an epoch of training as a few compiled calls.

Training runs each epoch as a few compiled calls (:func:`train`): on
TensorFlow an XLA-compiled ``tf.while_loop``, on JAX a jitted
``jax.lax.scan``, each stepping Keras' own ``Model.train_step`` through the
batches of that epoch's order. Keras' ``fit`` instead goes back to Python
(or to the graph executor, op by op) for every batch, which costs more than
the arithmetic of a network this small. Callbacks, metrics, validation and
``stop_training`` work as in ``fit``, at epoch granularity:
``on_train_batch_end`` is called once per epoch.

Short fits (fewer steps than the second it takes to compile an epoch
saves) run the same program's step batch by batch instead, as ``fit``
does, with the batch callbacks between steps: the same models as ``fit``,
bit for bit, but the step is traced once per network, not once per fit.
Held-out rows are scored the same way, a call per batch of the program's
copy of Keras' ``test_step``: ``Model.evaluate``'s scores, without its
trace for every fit. Which fits run here is decided by
:func:`skmnist._training.run` (sparse rows and ``fit`` arguments only Keras
understands go through Keras' loop, :mod:`skmnist._keras_loop`; fits that
need nothing from Python between epochs run many epochs a call in the same
programs' epoch runs, :mod:`skmnist._epoch_runs`); either way
each fit shuffles with its own seed, never with global random state: one
permutation per epoch from a :class:`numpy.random.Generator`, so that the
same seed gives the same batches on both loops and both backends.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import collections
import json
import logging
import math
import threading

import keras
import numpy as np
import scipy.sparse

from . import _aligned, _compat

# Shorter fits run step by step, about 2 ms a step on small MLPs on
# TensorFlow; a compiled epoch costs a second to compile, once per network
# in a process, then a fraction of a millisecond a step. On the digits, in a
# fresh process: at 90 steps the first fit took 0.8-0.9 s step by step
# against 1.7-1.9 s compiled, later fits 0.3 against 0.2 s; at 180 steps,
# 0.9 against 1.6-1.8 s, then 0.45 against 0.2-0.3 s; at 450 steps, 2.0 s
# either way, then 1.3-1.6 against 0.35-0.4 s. The loop depends on the fit
# alone, never on what ran before it: the two loops round differently, and
# the same fit must give the same model.
MIN_COMPILED_STEPS = 100
# False: every fit takes Keras' own loop (the tests compare the two).
COMPILED_EPOCHS = True
# The compiled programs kept, least recently used first out: each holds a
# private copy of a small network, never data.
MAX_PROGRAMS = 8
_programs = collections.OrderedDict()
_programs_lock = threading.Lock()
# Batches one compiled call steps through. A call takes this many batches'
# rows, gathered in the epoch's order, whatever the size of the data: fits on
# any number of rows (the folds and the refit of a search) share a program.
CHUNK_BATCHES = 32


def can_train(model):
    """Whether this backend has a program for ``model``'s compiled epochs."""
    program_type = _PROGRAMS.get(keras.backend.backend())
    return program_type is not None and program_type.can_run(model)


def train(
    model,
    X,
    y,
    sample_weight,
    *,
    by_step,
    batch_size,
    epochs,
    initial_epoch,
    shuffle,
    seed,
    callbacks,
    validation_data,
    verbose,
    augmenter=None,
):
    """Train ``model`` as ``Model.fit`` would, a few compiled calls per epoch.

    Parameters are ``fit``'s; ``seed`` seeds the order of the batches (a new
    permutation each epoch). With ``by_step`` (for short fits) each epoch
    runs a call per batch instead. ``augmenter`` (an
    :class:`skmnist._augmenting.Augmenter`, or None) augments the rows of
    each chunk of training batches once they are gathered, before the
    compiled loop steps through them (on TensorFlow it cannot be in the XLA
    program); held-out rows are never augmented. ``model`` must be one
    :func:`can_train` trains. Returns the ``History.history`` dict.
    """
    n = len(X)
    steps = math.ceil(n / batch_size)
    watched = verbose != 0 or _watch_batches(callbacks)
    key = _program_key(model, X, sample_weight is not None, batch_size)
    program = _program(key, _PROGRAMS[keras.backend.backend()], model, batch_size)
    on_device = program.put(_training_arrays(X, y, sample_weight))
    held_out = None
    if validation_data is not None and len(validation_data) == 2:
        if not any(scipy.sparse.issparse(a) for a in validation_data):
            held_out = program.put(_training_arrays(*validation_data, None))
    history = keras.callbacks.History()
    callbacks = keras.callbacks.CallbackList(
        [*callbacks, history],
        add_progbar=verbose != 0,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
        model=model,
    )
    # What fit does first: build the optimizer and the compiled metrics.
    _compat.symbolic_build(model, tuple(a[:1] for a in on_device))
    model.stop_training = False
    rng = np.random.default_rng(seed)
    program.augmenter = augmenter
    callbacks.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        callbacks.on_epoch_begin(epoch)
        order = (rng.permutation(n) if shuffle else np.arange(n)).astype(np.int32)
        if by_step:
            _step_by_step(program, model, on_device, order, callbacks, watched)
            logs = _metrics(model)
        else:
            _compiled_epoch(program, model, on_device, order)
            logs = _metrics(model)
            callbacks.on_train_batch_end(steps - 1, logs)
        logs.update(_validation_logs(program, model, held_out, validation_data))
        callbacks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    program.augmenter = None
    callbacks.on_train_end(logs)
    return history.history


def _compiled_epoch(program, model, arrays, order):
    """One epoch in a few compiled calls: `CHUNK_BATCHES` batches each, then the rest."""
    n, batch_size = len(order), program.batch_size
    whole = n // batch_size * batch_size  # rows in full batches
    chunk = CHUNK_BATCHES * batch_size
    with program.lock:  # fits in other threads may share the program
        program.load(model)
        for start in range(0, whole, chunk):
            program.run(arrays, order[start : min(start + chunk, whole)])
        if whole < n:
            program.step(arrays, order[whole:])
        program.sync(model)


def _validation_logs(program, model, held_out, validation_data):
    """The ``val_*`` scores of an epoch: ``held_out`` in the program, else Keras'."""
    if held_out is not None:
        with program.lock:
            scores = program.evaluate(model, held_out)
        return {f"val_{k}": v for k, v in scores.items()}
    if validation_data is not None:
        scores = model.evaluate(
            *validation_data,
            batch_size=program.batch_size,
            verbose=0,
            return_dict=True,
        )
        return {f"val_{k}": float(v) for k, v in scores.items()}
    return {}


def _step_by_step(program, model, arrays, order, callbacks, watched):
    """One epoch as Keras' fit runs it: a call per batch, callbacks in between.

    When ``watched``, each step starts from the model's state and leaves it
    there, with the batch's logs, so that the callbacks see and change what
    they would in ``fit``; else the state stays in the program all epoch.
    """
    batch_size = program.batch_size
    with program.lock:  # fits in other threads may share the program
        if not watched:
            program.load(model)
        for step, start in enumerate(range(0, len(order), batch_size)):
            callbacks.on_train_batch_begin(step)
            if watched:
                program.load(model)
            program.step(arrays, order[start : start + batch_size])
            if watched:
                program.sync(model)
            callbacks.on_train_batch_end(step, _metrics(model) if watched else {})
            if model.stop_training:
                break
        if not watched:
            program.sync(model)


def _watch_batches(callbacks):
    """Whether any of ``callbacks`` may read or change the model between batches.

    A callback that only looks at the logs says so with a true
    ``reads_only_logs`` attribute.
    """
    hooks = (
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_batch_begin",
        "on_batch_end",
    )
    base = keras.callbacks.Callback
    return any(
        not getattr(callback, "reads_only_logs", False)
        and any(getattr(type(callback), h) is not getattr(base, h) for h in hooks)
        for callback in callbacks
    )


def _metrics(model):
    return {k: float(v) for k, v in model.get_metrics_result().items()}


def _program(key, program_type, model, batch_size):
    """The cached program for ``key``, else a new one (cached when ``key`` is)."""
    with _programs_lock:
        program = _programs.get(key) if key is not None else None
        if program is not None:
            _programs.move_to_end(key)
            return program
    program = program_type(model, batch_size)
    if key is not None:
        with _programs_lock:
            _programs[key] = program
            while len(_programs) > MAX_PROGRAMS:
                _programs.popitem(last=False)
    return program


def _training_arrays(X, y, sample_weight):
    """The training arrays as C-ordered float32 (``y``: int32), copied only if not."""
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    return tuple(
        np.ascontiguousarray(a, np.int32 if a is y else np.float32) for a in arrays
    )


# Seeds draw initial values, Keras numbers the names of objects, and only
# Keras' fit reads how many steps it runs per call and whether it uses XLA;
# a float learning rate is a variable.
_NOT_IN_PROGRAM = ("seed", "name", "steps_per_execution", "jit_compile")


def _stateless(config):
    """A network's or a compile configuration without what only seeds its state."""
    if isinstance(config, dict):
        return {
            k: _stateless(v)
            for k, v in config.items()
            if k not in _NOT_IN_PROGRAM
            and not (k == "learning_rate" and isinstance(v, float))
        }
    if isinstance(config, (list, tuple)):
        return [_stateless(v) for v in config]
    return config


def _program_key(model, X, weighted, batch_size):
    """Everything a compiled epoch depends on, or None when it cannot be told."""
    try:
        config = json.dumps(
            [
                _stateless(model.get_config()),
                _stateless(model.get_compile_config()),
            ],
            sort_keys=True,
        )
    except (TypeError, ValueError, NotImplementedError):
        return None
    return keras.backend.backend(), config, batch_size, X.shape[1:], weighted


def _variable_groups(model):
    """A compiled model's variables, grouped as JAX's ``train_step`` state is.

    Any copy of the model lists its variables in the same order.
    """
    return (
        model.trainable_variables,
        model.non_trainable_variables,
        model.optimizer.variables,
        model.metrics_variables,
    )


def _tensorflow_variables(model):
    """The TensorFlow variables behind a compiled model's, in one list."""
    return [v.value for group in _variable_groups(model) for v in group]


def _private_copy(model):
    """A compiled copy of ``model`` with its own variables, for a program to run."""
    copy = keras.models.clone_model(model)
    copy.compile_from_config(model.get_compile_config())
    n_features = model.inputs[0].shape[1]
    _compat.symbolic_build(
        copy, (np.zeros((1, n_features), np.float32), np.zeros(1, np.int32))
    )
    return copy


def _chunk_index(rows, batch_size):
    """``rows`` padded with row 0 to `CHUNK_BATCHES` batches.

    A new array for every call: the backends may read it in place after the
    call returns (JAX's dispatch is asynchronous), so it is never reused.
    """
    index = np.zeros(CHUNK_BATCHES * batch_size, np.int32)
    index[: len(rows)] = rows
    return index


# Whether a compiled epoch runs in this thread: its dropout masks are Threefry's.
_in_program = threading.local()


def _augmented(program, batches):
    """``batches`` with their rows augmented by the program's augmenter, if any."""
    if program.augmenter is None:
        return batches
    return (program.augmenter(batches[0]), *batches[1:])


def _has_dropout(model):
    return any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)


class _RetracingOfPrograms(logging.Filter):
    """Drops TensorFlow's warning that the compiled epochs were traced again.

    Each network's program traces its own function, by design, and its
    epoch runs one for each size of the rows (:mod:`skmnist._epoch_runs`);
    TensorFlow counts the traces of all of them together and would warn a
    user whose search tries several networks.
    """

    def filter(self, record):
        message = record.getMessage()
        return "_TensorFlowEpochs" not in message and "_TensorFlowRuns" not in message


class _TensorFlowEpochs:
    """Batches of an epoch as one XLA-compiled loop of ``train_step``.

    The program runs a private copy of the network: :meth:`load` copies a
    fit's variables in, :meth:`sync` copies them back out. A call steps
    through the batches of `CHUNK_BATCHES` batches' rows; an epoch's last,
    partial batch runs in a graph function (not XLA, which would compile
    again for every size of it). Without dropout, the loop calls that
    function's trace of ``train_step`` rather than tracing it again.
    """

    def __init__(self, model, batch_size):
        import tensorflow as tf

        if not any(
            isinstance(f, _RetracingOfPrograms) for f in tf.get_logger().filters
        ):
            tf.get_logger().addFilter(_RetracingOfPrograms())
        self.tf = tf
        self.lock = threading.Lock()
        self.model = copy = _private_copy(model)
        self.batch_size = batch_size
        self.dropout = _has_dropout(copy)

        def steps(arrays, count):
            batches = tuple(
                tf.reshape(a, (CHUNK_BATCHES, batch_size, *a.shape[1:])) for a in arrays
            )

            def step(i):
                # The graph step's trace has Keras' dropout, not the loop's
                # Threefry masks: with dropout the loop traces its own.
                train_step = copy.train_step if self.dropout else self.last
                train_step(tuple(b[i] for b in batches))
                return (i + 1,)

            tf.while_loop(lambda i: i < count, step, (tf.constant(0),))

        self.steps = tf.function(steps, jit_compile=True, autograph=False)
        self.last = self.test = self.augmenter = None
        # Its epoch runs (skmnist._epoch_runs), made at their first use.
        self.runs = None
        self.variables = _tensorflow_variables(copy)

    @staticmethod
    def can_run(model):
        return not _has_dropout(model) or _compat.threefry_dropout(_in_program)

    def put(self, arrays):
        # Aligned arrays (the transformer's rows) are read in place, not copied.
        from_dlpack = self.tf.experimental.dlpack.from_dlpack
        return tuple(
            from_dlpack(_aligned.aligned(a, a.dtype).__dlpack__()) for a in arrays
        )

    def load(self, model):
        self._assign(_tensorflow_variables(model), self.variables)

    def _assign(self, sources, targets):
        # Two raw operations a variable: a quarter of the time of assign().
        read, write = self.tf.raw_ops.ReadVariableOp, self.tf.raw_ops.AssignVariableOp
        for source, target in zip(sources, targets, strict=True):
            value = read(resource=source.handle, dtype=source.dtype)
            write(resource=target.handle, value=value)

    def run(self, arrays, rows):
        """Step through the full batches of ``rows``, at most `CHUNK_BATCHES`."""
        if not self.dropout:
            self._trace_step(arrays)
        index = _chunk_index(rows, self.batch_size)
        batches = _augmented(self, tuple(self.tf.gather(a, index) for a in arrays))
        _in_program.active = True
        try:
            self.steps(batches, self.tf.constant(len(rows) // self.batch_size))
        finally:
            _in_program.active = False

    def _graph(self, method, arrays):
        """``method`` as a graph function (not XLA) of batches like ``arrays``, of any size."""
        tf = self.tf
        spec = tuple(tf.TensorSpec((None, *a.shape[1:]), a.dtype) for a in arrays)
        return tf.function(
            method, input_signature=(spec,), jit_compile=False, autograph=False
        )

    def _trace_step(self, arrays):
        if self.last is None:
            self.last = self._graph(self.model.train_step, arrays)

    def step(self, arrays, rows):
        """One step on the batch ``rows``, of any size."""
        self._trace_step(arrays)
        self.last(_augmented(self, tuple(self.tf.gather(a, rows) for a in arrays)))

    def evaluate(self, model, arrays):
        """``model.evaluate``'s scores on ``arrays``: a call per batch of Keras' step."""
        if self.test is None:
            self.test = self._graph(self.model.test_step, arrays)
        self.load(model)
        self.model.reset_metrics()
        for start in range(0, len(arrays[0]), self.batch_size):
            logs = self.test(tuple(a[start : start + self.batch_size] for a in arrays))
        return {k: float(v) for k, v in logs.items()}

    def sync(self, model):
        self._assign(self.variables, _tensorflow_variables(model))


class _JaxEpochs:
    """Batches of an epoch as one jitted loop of the stateless ``train_step``.

    The program traces a private copy of the network and runs on the values
    of a fit's variables: :meth:`load` reads them, :meth:`sync` writes them.
    Calls take batches as :class:`_TensorFlowEpochs`' do.
    """

    def __init__(self, model, batch_size):
        import jax

        self.jax = jax
        self.lock = threading.Lock()
        self.model = copy = _private_copy(model)
        self.batch_size = batch_size
        self.state = self.augmenter = None
        # Its epoch runs (skmnist._epoch_runs), made at their first use.
        self.runs = None

        def steps(state, arrays, count):
            batches = tuple(
                a.reshape(CHUNK_BATCHES, batch_size, *a.shape[1:]) for a in arrays
            )

            def step(i, state):
                return copy.train_step(state, tuple(b[i] for b in batches))[1]

            return jax.lax.fori_loop(0, count, step, state)

        self.steps = jax.jit(steps)
        self.last = jax.jit(lambda state, batch: copy.train_step(state, batch)[1])
        self.test = jax.jit(copy.test_step)

    @staticmethod
    def can_run(model):
        return True

    def put(self, arrays):
        return tuple(self.jax.numpy.asarray(a) for a in arrays)

    def load(self, model):
        self.state = tuple(
            [v.value for v in group] for group in _variable_groups(model)
        )

    def run(self, arrays, rows):
        """Step through the full batches of ``rows``, at most `CHUNK_BATCHES`."""
        index = _chunk_index(rows, self.batch_size)
        batches = _augmented(self, tuple(a[index] for a in arrays))
        self.state = self.steps(self.state, batches, len(rows) // self.batch_size)

    def step(self, arrays, rows):
        """One step on the batch ``rows``, of any size."""
        batch = _augmented(self, tuple(a[rows] for a in arrays))
        self.state = self.last(self.state, batch)

    def evaluate(self, model, arrays):
        """``model.evaluate``'s scores on ``arrays``: a call per batch of Keras' step."""
        self.model.reset_metrics()
        state = tuple(
            [v.value for v in group]
            for group in (
                model.trainable_variables,
                model.non_trainable_variables,
                self.model.metrics_variables,
            )
        )
        for start in range(0, len(arrays[0]), self.batch_size):
            batch = tuple(a[start : start + self.batch_size] for a in arrays)
            logs, state = self.test(state, batch)
        return {k: float(v) for k, v in logs.items()}

    def sync(self, model):
        for group, values in zip(_variable_groups(model), self.state, strict=True):
            for variable, value in zip(group, values, strict=True):
                variable.assign(value)
        self.state = None


_PROGRAMS = {"tensorflow": _TensorFlowEpochs, "jax": _JaxEpochs}
