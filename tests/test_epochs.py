"""The compiled epochs train the models Keras' fit trains, and the loop that runs is the one that pays."""

import threading

import keras
import numpy as np
import pytest

from skmnist import KerasMLPClassifier, _epochs, make_mnist_pipeline

from ._measure import measure_python


def test_compiled_epochs_train_the_model_fit_trains(
    mnist_train, mnist_test, monkeypatch
):
    X, y = mnist_train
    X, y = X[:6000], y[:6000]
    X_test, y_test = mnist_test
    results = {}
    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    for path in ("compiled", "fit"):
        monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", path == "compiled")
        pipe = make_mnist_pipeline(epochs=3, random_state=0).fit(X, y)
        results[path] = pipe.predict_proba(X_test), pipe[-1].history_
    (compiled, compiled_history), (plain, plain_history) = results.values()
    # the same batches in the same order: equal up to float rounding
    np.testing.assert_allclose(compiled, plain, atol=1e-2)
    assert np.mean(compiled.argmax(1) == plain.argmax(1)) > 0.99
    np.testing.assert_allclose(
        compiled_history["loss"], plain_history["loss"], rtol=1e-3
    )
    np.testing.assert_allclose(
        compiled_history["accuracy"], plain_history["accuracy"], rtol=1e-3
    )


def test_each_fit_takes_the_path_it_can(digits_flat, monkeypatch):
    X, y = digits_flat
    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    assert fitted(X, y, epochs=1)._training_loop == "compiled"
    # arguments only Model.fit understands take Keras' loop
    routed = KerasMLPClassifier(epochs=3, random_state=0, fit__validation_batch_size=7)
    assert routed.fit(X, y)._training_loop == "keras"
    assert fitted(X, y, epochs=1, dropout=0.1)._training_loop == "compiled"
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", False)
    assert fitted(X, y, epochs=1)._training_loop == "keras"


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)


@pytest.fixture
def no_programs(monkeypatch):
    """The compiled programs, none at first (each test's own); every fit compiles."""
    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    monkeypatch.setattr(_epochs, "_programs", type(_epochs._programs)())
    return _epochs._programs


@pytest.fixture
def traces(monkeypatch):
    """A list that grows by one each time Keras' ``train_step`` is traced."""
    traced = []
    train_step = keras.Model.train_step

    def counted(*args):
        traced.append(1)  # runs in Python only while tracing
        return train_step(*args)

    monkeypatch.setattr(keras.Model, "train_step", counted)
    return traced


@pytest.mark.jax
def test_a_reused_program_gives_the_model_a_cold_fit_gives(digits_flat, no_programs):
    X, y = digits_flat
    cold = fitted(X, y, epochs=3, random_state=1)
    assert cold._training_loop == "compiled" and len(no_programs) == 1
    (program,) = no_programs.values()
    fitted(X, y, epochs=2, random_state=2)  # leaves its weights in the program
    warm = fitted(X, y, epochs=3, random_state=1)
    assert list(no_programs.values()) == [program]
    np.testing.assert_array_equal(warm.predict_proba(X), cold.predict_proba(X))
    assert warm.loss_curve_ == cold.loss_curve_
    assert int(warm.model_.optimizer.iterations) == 3 * 18
    # data of any size shares the program: the folds and the refit of a
    # search, fewer rows than one call's batches, a partial last batch or none
    for n in (1400, 1500, 100, 1700):
        fitted(X[:n], y[:n], epochs=1)
    assert list(no_programs.values()) == [program]


@pytest.mark.jax
def test_a_changed_parameter_never_runs_a_stale_program(
    digits_flat, no_programs, caplog
):
    X, y = digits_flat[0][:300], digits_flat[1][:300]
    changes = [
        {},
        {"hidden_layer_sizes": (32, 65)},
        {"activation": "tanh"},
        {"batch_size": 64},
        {"alpha": 0.1},
        {"solver": "sgd", "momentum": 0.5},
        {"solver": "sgd", "momentum": 0.9},
        {"learning_rate_init": 0.01},
    ]
    for change in changes:
        fitted(X, y, epochs=1, **change)
    # a new program for each but the learning rate, which is a variable
    assert len(no_programs) == len(changes) - 1
    # and TensorFlow does not warn that they were traced again and again
    assert not [r for r in caplog.records if "retracing" in r.getMessage()]


def test_the_programs_kept_are_bounded(digits_flat, no_programs, monkeypatch):
    X, y = digits_flat[0][:300], digits_flat[1][:300]
    monkeypatch.setattr(_epochs, "MAX_PROGRAMS", 1)
    first = fitted(X, y, epochs=1)
    fitted(X, y, epochs=1, hidden_layer_sizes=(8,))
    assert len(no_programs) == 1
    # the oldest went first: the first network compiles anew, same model
    again = fitted(X, y, epochs=1)
    assert len(no_programs) == 1
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_keras_loop_traces_the_training_step_once(digits_flat, traces, monkeypatch):
    # Keras on TensorFlow creates the optimizer's variables in its first
    # trace unless they exist, then traces again: a second of a small fit.
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", False)
    clf = fitted(*digits_flat, epochs=3)
    assert clf._training_loop == "keras"
    assert len(traces) == 1


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_compiled_epochs_trace_the_training_step_once(
    digits_flat, no_programs, traces, dropout
):
    # A network's compiled loop calls the trace its epochs' last, partial
    # batches run (1,797 digits: 97 rows), instead of tracing Keras' step
    # again; with dropout the loop draws Threefry masks, which the partial
    # batches' Keras masks cannot serve, so it traces its own.
    clf = fitted(*digits_flat, epochs=2, dropout=dropout)
    assert clf._training_loop == "compiled"
    assert len(traces) == (2 if dropout else 1)


@pytest.mark.jax
@pytest.mark.parametrize("params", [{}, {"dropout": 0.3, "batch_size": 64}])
def test_short_fits_train_as_keras_fit_does_and_trace_once(
    digits_flat, no_programs, traces, monkeypatch, params
):
    # Too short to pay for compiling, a fit runs Keras' own step batch by
    # batch, as fit does, but traced once per network instead of every fit.
    X, y = digits_flat
    weights = np.linspace(0.5, 1.5, len(X))

    def fit():
        clf = KerasMLPClassifier(epochs=2, random_state=0, **params)
        return clf.fit(X, y, sample_weight=weights)

    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 100)
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", False)
    plain = fit()
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", True)
    first = fit()
    n_traces = len(traces)
    second = fit()
    assert first._training_loop == second._training_loop == "steps"
    assert len(traces) == n_traces  # the second fit traced nothing
    for clf in (first, second):
        np.testing.assert_array_equal(clf.predict_proba(X), plain.predict_proba(X))
        assert clf.loss_curve_ == plain.loss_curve_


@pytest.mark.jax
def test_short_fits_call_back_after_every_batch_as_fit_does(digits_flat, monkeypatch):
    X, y = digits_flat  # 18 steps an epoch
    seen = {}

    class Watch(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate.assign(0.001 * (1 + batch % 3))

        def on_train_batch_end(self, batch, logs=None):
            kernel = keras.ops.convert_to_numpy(self.model.trainable_weights[0])
            seen[loop].append((batch, float(kernel.sum()), logs["loss"]))

    for loop in ("keras", "steps"):
        seen[loop] = []
        monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", loop == "steps")
        clf = fitted(X, y, epochs=2, callbacks=[Watch()])
        assert clf._training_loop == loop
    assert [batch for batch, _, _ in seen["steps"]] == list(range(18)) * 2
    assert len({kernel for _, kernel, _ in seen["steps"]}) == 36
    assert seen["steps"] == seen["keras"]


@pytest.mark.jax
@pytest.mark.parametrize("loop", ["compiled", "steps"])
def test_validation_scores_are_keras_evaluates(digits_flat, monkeypatch, loop):
    # Held-out rows are scored in the network's program, a batch per call of
    # Keras' own step: what model.evaluate gives, without its trace per fit.
    X, y = digits_flat
    X_val, y_val = X[1500:], y[1500:]
    checked = []

    class Evaluate(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            scores = self.model.evaluate(
                X_val, y_val, batch_size=64, verbose=0, return_dict=True
            )
            assert {f"val_{k}": float(v) for k, v in scores.items()} == {
                k: v for k, v in logs.items() if k.startswith("val_")
            }
            checked.append(epoch)

    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 100 if loop == "steps" else 0)
    clf = KerasMLPClassifier(
        epochs=3,
        batch_size=64,
        random_state=0,
        callbacks=[Evaluate()],
        fit__validation_data=(X_val, y_val),
    ).fit(X[:1500], y[:1500])
    assert clf._training_loop == loop
    assert checked == [0, 1, 2]


def test_the_loop_depends_on_the_fit_alone(digits_flat, no_programs, monkeypatch):
    X, y = digits_flat  # 18 steps an epoch
    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 50)
    short = fitted(X, y, epochs=2)
    assert short._training_loop == "steps"
    assert fitted(X, y, epochs=3)._training_loop == "compiled"
    # a compiled program for this network now exists; the short fit still
    # runs step by step, and gives the same model
    again = fitted(X, y, epochs=2)
    assert again._training_loop == "steps"
    np.testing.assert_array_equal(again.predict_proba(X), short.predict_proba(X))


def test_an_index_handed_to_the_backend_is_never_written_again():
    # JAX may still be reading a call's index after the call returned: a
    # buffer reused by the next call (or another thread's fit) trained on
    # the wrong rows.
    first = _epochs._chunk_index(np.arange(5, dtype=np.int32), batch_size=2)
    kept = first.copy()
    _epochs._chunk_index(np.arange(5, 10, dtype=np.int32), batch_size=2)
    np.testing.assert_array_equal(first, kept)
    assert len(first) == _epochs.CHUNK_BATCHES * 2


@pytest.mark.jax
def test_fits_in_threads_share_a_program_safely(digits_flat, no_programs):
    X, y = digits_flat
    seeds = (1, 2, 3)
    alone = {s: fitted(X, y, epochs=6, random_state=s).predict_proba(X) for s in seeds}
    together = {}

    def fit(seed):
        together[seed] = fitted(X, y, epochs=6, random_state=seed).predict_proba(X)

    threads = [threading.Thread(target=fit, args=(s,)) for s in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(no_programs) == 1
    for seed in seeds:
        np.testing.assert_array_equal(together[seed], alone[seed])


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["compiled", "keras"])
def test_memory_stays_flat_across_fits(mnist_home, loop):
    # Each fit's rows are 31 MB of float32: a fit that left them behind would
    # grow the process by that much every time. (Keras' own fit keeps up to
    # about 10 MB of each fit.)
    code = """
import sys
from skmnist import _epochs, fetch_mnist, make_mnist_pipeline
_epochs.MIN_COMPILED_STEPS = 0
_epochs.COMPILED_EPOCHS = sys.argv[1] == "compiled"
def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
X, y = fetch_mnist("train", return_X_y=True)
X, y = X[:10000], y[:10000]
sizes = []
for i in range(10):
    pipe = make_mnist_pipeline(epochs=1, random_state=i).fit(X, y)
    assert pipe[-1]._training_loop == sys.argv[1]
    sizes.append(rss_mb())
print(sizes[2], sizes[-1])
"""
    result = measure_python(code, args=[loop], timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    after_3, after_10 = map(float, result.stdout.split())
    assert (after_10 - after_3) / 7 < 15, (after_3, after_10)


@pytest.mark.jax
def test_dropout_trains_in_the_compiled_loop(digits_flat, no_programs, monkeypatch):
    X, y = digits_flat
    dropped = fitted(X, y, epochs=3, dropout=0.5, random_state=1)
    assert dropped._training_loop == "compiled"
    again = fitted(X, y, epochs=3, dropout=0.5, random_state=1)
    np.testing.assert_array_equal(again.predict_proba(X), dropped.predict_proba(X))
    other_seed = fitted(X, y, epochs=3, dropout=0.5, random_state=2)
    plain = fitted(X, y, epochs=3, random_state=1)
    for model in (other_seed, plain):
        assert not np.allclose(model.predict_proba(X), dropped.predict_proba(X))
    # it learns as Keras' loop does with dropout
    monkeypatch.setattr(_epochs, "COMPILED_EPOCHS", False)
    keras_loop = fitted(X, y, epochs=3, dropout=0.5, random_state=1)
    assert abs(dropped.score(X, y) - keras_loop.score(X, y)) < 0.1


def test_keras_dropout_is_its_own_outside_the_compiled_epochs(digits_flat):
    # Compiled epochs on TensorFlow draw dropout masks from Threefry; every
    # other caller of Keras' dropout gets Keras' own masks.
    import tensorflow as tf
    from keras.src.backend.tensorflow import random

    X, y = digits_flat
    fitted(X[:200], y[:200], epochs=1, dropout=0.5)
    assert random.dropout is not random.dropout.__wrapped__
    x = np.ones((64, 50), np.float32)

    def masks(dropout, in_program=False):
        seed = keras.random.SeedGenerator(3)

        @tf.function(jit_compile=True)
        def draw():
            return dropout(x, 0.5, seed=seed)

        _epochs._in_program.active = in_program
        try:
            return np.asarray(draw())
        finally:
            _epochs._in_program.active = False

    keras_own = masks(random.dropout.__wrapped__)
    np.testing.assert_array_equal(masks(random.dropout), keras_own)
    threefry = masks(random.dropout, in_program=True)
    assert not np.array_equal(threefry, keras_own)
    assert 0.4 < np.mean(threefry == 0) < 0.6
    np.testing.assert_array_equal(np.unique(threefry), [0, 2])


@pytest.mark.jax
def test_training_reads_the_transformers_rows_in_place(mnist_train, no_programs):
    import tracemalloc

    X, y = mnist_train
    pipe = make_mnist_pipeline(epochs=1, random_state=0)
    rows = pipe[:-1].fit_transform(X[:10000], y[:10000])  # 31 MB of float32
    fitted(rows[:200], y[:200], epochs=1)  # compile first: measure one fit's data
    tracemalloc.start()
    try:
        fitted(rows, y[:10000], epochs=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # TensorFlow trains on the rows themselves; JAX on one copy of them
    copies = 0 if keras.backend.backend() == "tensorflow" else 1
    assert peak < (copies + 0.25) * rows.nbytes, (peak, rows.nbytes)
