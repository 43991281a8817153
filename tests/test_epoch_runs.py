"""Epoch runs train the models, records and warnings the compiled epochs do, bit for bit.

Each fit is made twice, in epoch runs (many epochs a call, the stopping
rule in the program) and with them turned off (the compiled epochs, a call
an epoch), and everything a user can read is compared exactly.
"""

import os
import signal
import threading
import warnings

import keras
import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmnist import KerasMLPClassifier, MLPClassifier, _epoch_runs, _epochs

from .test_interrupt import INTERRUPTED, fit_quietly

ATTRIBUTES = ("n_iter_", "t_", "loss_", "best_loss_", "loss_curve_", "history_")


@pytest.fixture(scope="module")
def moons():
    """60 training rows of the gallery's moons, standardized, as bench_small has them."""
    X, y = make_moons(noise=0.3, random_state=0)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.4, random_state=42)
    return StandardScaler().fit_transform(X_train), y_train


@pytest.fixture
def calls(monkeypatch):
    """A list that grows by one at each call of an epoch-runs program."""
    made = []
    call = _epoch_runs._call

    def counted(*args):
        made.append(1)
        return call(*args)

    monkeypatch.setattr(_epoch_runs, "_call", counted)
    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    return made


def fit_both(monkeypatch, make, X, y, then=None):
    """``{loop: (fitted, warnings)}`` of ``make()`` fitted in epoch runs and not.

    ``then(clf)`` may continue each fitted model (say with warm_start); its
    warnings are the ones kept.
    """
    fits = {}
    for runs in (True, False):
        monkeypatch.setattr(_epoch_runs, "EPOCH_RUNS", runs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf = make().fit(X, y)
            if then is not None:
                caught.clear()
                then(clf)
        kept = [
            (w.category, str(w.message))
            for w in caught
            if not issubclass(w.category, DeprecationWarning)
        ]
        fits[clf._training_loop] = clf, kept
    return fits


def assert_same(fits):
    """Both fits' weights, records and warnings are equal, bit for bit."""
    (runs, runs_warned), (compiled, compiled_warned) = fits["runs"], fits["compiled"]
    for name in ATTRIBUTES:
        assert getattr(runs, name) == getattr(compiled, name), name
    for a, b in zip(
        runs.model_.get_weights(), compiled.model_.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)
    assert runs_warned == compiled_warned


def mlp(**params):
    params = {"solver": "adam", "alpha": 1.0, "random_state": 42, **params}
    return lambda: MLPClassifier(**params)


@pytest.mark.jax
def test_a_fit_stopped_by_tol_is_the_compiled_epochs_fit(moons, calls, monkeypatch):
    X, y = moons
    fits = fit_both(monkeypatch, mlp(hidden_layer_sizes=(100,), tol=1e-3), X, y)
    assert_same(fits)
    clf, warned = fits["runs"]
    assert clf.n_iter_ < 1000 and warned == []  # stopped by the rule
    assert 0 < len(calls) <= 3


@pytest.mark.jax
def test_a_fit_out_of_iterations_is_the_compiled_epochs_fit(moons, calls, monkeypatch):
    X, y = moons
    make = mlp(hidden_layer_sizes=(10, 10), max_iter=150)
    fits = fit_both(monkeypatch, make, X, y)
    assert_same(fits)
    clf, warned = fits["runs"]
    assert clf.n_iter_ == 150
    assert [category for category, _ in warned] == [ConvergenceWarning]
    assert calls


@pytest.mark.jax
def test_warm_start_goes_on_as_the_compiled_epochs_do(moons, calls, monkeypatch):
    X, y = moons

    def again(clf):
        clf.set_params(warm_start=True, max_iter=200, tol=1e-3)
        clf.fit(X, y)

    fits = fit_both(monkeypatch, mlp(max_iter=60), X, y, then=again)
    assert_same(fits)
    clf, _ = fits["runs"]
    assert len(clf.loss_curve_) == 60 + clf.n_iter_ and clf.t_ == len(X) * (
        60 + clf.n_iter_
    )


@pytest.mark.jax
def test_the_rule_carries_over_from_call_to_call(moons, calls, monkeypatch):
    # One epoch a call after the first five; and a program far readier than
    # Python to call epochs stalled, which stops each call after
    # n_iter_no_change + 1 epochs: Python's exact rule goes on each time.
    X, y = moons
    monkeypatch.setattr(_epoch_runs, "FIRST_CALL_STEPS", 5)
    monkeypatch.setattr(_epoch_runs, "CALL_SECONDS", 0.0)
    make = mlp(max_iter=120, tol=1e-3, n_iter_no_change=3)
    fits = fit_both(monkeypatch, make, X, y)
    assert_same(fits)
    n_iter = fits["runs"][0].n_iter_
    assert n_iter > 20 and len(calls) >= n_iter - 4
    calls.clear()
    monkeypatch.setattr(_epoch_runs, "CALL_SECONDS", 1.0)
    monkeypatch.setattr(_epoch_runs, "_SLACK", 1e6)
    fits = fit_both(monkeypatch, make, X, y)
    assert_same(fits)
    assert len(calls) >= fits["runs"][0].n_iter_ // 4


@pytest.mark.jax
def test_digits_in_batches_are_the_compiled_epochs_fit(digits_flat, calls, monkeypatch):
    X, y = digits_flat[0][:1600], digits_flat[1][:1600]  # 8 full batches an epoch
    weights = np.linspace(0.5, 1.5, len(X))
    make = mlp(
        hidden_layer_sizes=(32,), alpha=1e-4, max_iter=40, tol=0.1, n_iter_no_change=3
    )
    fits = {}
    for runs in (True, False):
        monkeypatch.setattr(_epoch_runs, "EPOCH_RUNS", runs)
        clf = make().fit(X, y, sample_weight=weights)
        fits[clf._training_loop] = clf, []
    assert_same(fits)
    assert fits["runs"][0].n_iter_ < 40
    # the Keras face, its batch size and accuracy metric, with and without dropout
    for dropout in (0.0, 0.3):
        params = {"epochs": 5, "batch_size": 100, "dropout": dropout}
        make = lambda: KerasMLPClassifier(**params, random_state=0)  # noqa: B023, E731
        assert_same(fit_both(monkeypatch, make, X, y))


@pytest.mark.jax
def test_fits_that_need_python_between_epochs_return_after_each(
    moons, digits_flat, calls, monkeypatch
):
    X, y = moons
    fitted = mlp(max_iter=20)().fit(X, y)
    assert fitted._training_loop == "runs"
    rows, labels = digits_flat
    for clf, data in [
        (mlp(max_iter=20, verbose=True)(), (X, y)),
        (mlp(max_iter=20, early_stopping=True)(), (X, y)),
        (mlp(max_iter=20, solver="sgd", learning_rate="invscaling")(), (X, y)),
        (keras_mlp(epochs=3, callbacks=[keras.callbacks.History()]), (X, y)),
        (keras_mlp(epochs=3, validation_split=0.1), (X, y)),
        (keras_mlp(epochs=2, batch_size=64), (rows, labels)),  # partial
    ]:
        assert clf.fit(*data)._training_loop == "compiled"
    assert len(calls) == 1


def keras_mlp(**params):
    """The Keras face with the moons' network (the same compiled program)."""
    return KerasMLPClassifier(hidden_layer_sizes=(100,), alpha=1.0, **params)


def test_ctrl_c_stops_between_calls_and_keeps_the_model(default_sigint, moons, calls):
    X, y = moons
    clf = MLPClassifier(
        max_iter=10**6, tol=0, n_iter_no_change=10**6, alpha=1.0, random_state=0
    )
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    caught = fit_quietly(clf, X, y)
    timer.join()
    assert [str(w.message) for w in caught] == [INTERRUPTED]
    assert clf._training_loop == "runs" and calls
    assert 0 < clf.n_iter_ < 10**6
    assert len(clf.loss_curve_) == len(clf.history_["loss"]) == clf.n_iter_
    assert clf.t_ == clf.n_iter_ * len(X)
    assert clf.score(X, y) > 0.8
