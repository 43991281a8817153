"""The training run: epochs, stopping rules, schedules, warm start, partial_fit,
held-out splits, and the fitted attributes MLPClassifier records."""

import math

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skmnist import KerasMLPClassifier

pytestmark = pytest.mark.jax


def fit(X, y, **params):
    return KerasMLPClassifier(**{"random_state": 0, **params}).fit(X, y)


def test_same_random_state_same_model(digits_flat):
    X, y = digits_flat
    a = fit(X, y, epochs=3).predict_proba(X)
    b = fit(X, y, epochs=3).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = KerasMLPClassifier(epochs=3).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


@pytest.mark.slow
def test_a_randomstate_seeds_like_an_int(digits_flat):
    X, y = digits_flat

    def proba(seed):
        clf = fit(X, y, epochs=1, random_state=np.random.RandomState(seed))
        return clf.predict_proba(X[:20])

    np.testing.assert_array_equal(proba(1), proba(1))
    assert not np.allclose(proba(1), proba(2))


def test_history_records_each_epoch(digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=4)
    assert len(clf.history_["loss"]) == 4 and len(clf.history_["accuracy"]) == 4
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]


def test_class_weight_changes_the_model(digits_flat):
    X, y = digits_flat
    plain = fit(X, y, epochs=5)
    weighted = fit(X, y, epochs=5, class_weight={3: 50.0})
    # a heavy class is predicted more often
    assert (weighted.predict(X) == 3).sum() > (plain.predict(X) == 3).sum()


@pytest.mark.parametrize(
    "n_samples, batch_size", [(600, 100), (700, 100), (650, 100), (1797, 32)]
)
def test_an_epoch_is_one_pass_over_the_data(digits_flat, n_samples, batch_size):
    X, y = digits_flat
    clf = fit(X[:n_samples], y[:n_samples], epochs=3, batch_size=batch_size)
    steps = -(-n_samples // batch_size)
    assert int(clf.model_.optimizer.iterations) == 3 * steps
    # continuing on data of another size keeps counting whole passes
    clf.set_params(warm_start=True, epochs=2).fit(X[:500], y[:500])
    assert int(clf.model_.optimizer.iterations) == 3 * steps + 2 * -(-500 // batch_size)


def test_fitted_attributes_are_mlpclassifiers(digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=3)
    with pytest.warns(ConvergenceWarning):
        ref = MLPClassifier(hidden_layer_sizes=(32, 64), max_iter=3).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [c.shape for c in ref.coefs_]
    assert [b.shape for b in clf.intercepts_] == [b.shape for b in ref.intercepts_]
    assert clf.n_layers_ == ref.n_layers_ == 4
    assert clf.n_outputs_ == ref.n_outputs_ == 10
    assert clf.out_activation_ == ref.out_activation_ == "softmax"
    assert clf.n_iter_ == 3 and clf.t_ == 3 * len(X)
    assert len(clf.loss_curve_) == 3 and clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    # coefs_ are the network's weights: a NumPy forward pass gives predict_proba
    out = X.astype(np.float64)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True)):
        out = out @ w + b
        out = np.maximum(out, 0) if i < 2 else out
    proba = np.exp(out - out.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_batch_size_auto_is_min_200_n(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=2, batch_size="auto")
    assert int(clf.model_.optimizer.iterations) == 2 * math.ceil(len(X) / 200)
    small = fit(X[:150], y[:150], epochs=2, batch_size="auto")
    assert int(small.model_.optimizer.iterations) == 2  # one batch of all 150


def test_invscaling_schedule(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=3, solver="sgd", learning_rate="invscaling", power_t=0.25)
    seen_before_last = 2 * len(X)
    expected = 0.001 / (seen_before_last + 1) ** 0.25
    assert np.isclose(float(clf.model_.optimizer.learning_rate), expected, rtol=1e-5)
    # the schedule belongs to sgd, as in MLPClassifier
    adam = fit(X, y, epochs=3, learning_rate="invscaling")
    assert np.isclose(float(adam.model_.optimizer.learning_rate), 0.001)


def test_stopping_on_a_stalled_loss_matches_mlpclassifier(training_path, digits_flat):
    # With a huge tol no epoch counts as progress: MLPClassifier's rule stops
    # after n_iter_no_change + 1 stalled epochs.
    X, y = digits_flat
    params = {"tol": 100.0, "n_iter_no_change": 2}
    clf = fit(X, y, epochs=50, **params)
    ref = MLPClassifier(max_iter=50, random_state=0, **params).fit(X, y)
    assert clf.n_iter_ == ref.n_iter_ == 4
    assert len(clf.history_["loss"]) == 4


def test_adaptive_schedule_divides_the_rate_instead_of_stopping(
    training_path, digits_flat
):
    X, y = digits_flat
    clf = fit(
        X,
        y,
        epochs=9,
        solver="sgd",
        learning_rate="adaptive",
        tol=100.0,
        n_iter_no_change=1,
        learning_rate_init=0.1,
    )
    assert clf.n_iter_ == 9  # never stopped
    # progress stalls from epoch 2 on; every second stalled epoch divides by 5
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 0.1 / 5**4, rtol=1e-5)


@pytest.mark.slow
def test_early_stopping_stops_and_keeps_the_best_weights(training_path, digits_flat):
    X, y = digits_flat
    params = {
        "epochs": 300,
        "early_stopping": True,
        "validation_fraction": 0.2,
        "n_iter_no_change": 3,
        "learning_rate_init": 0.01,
    }
    clf = fit(X, y, **params)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    # the held-out fifth: stratified, drawn with random_state
    _, X_val, _, y_val = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    assert np.isclose(clf.score(X_val, y_val), clf.best_validation_score_, atol=1e-6)
    correct = np.array(clf.validation_scores_) * len(y_val)  # whole samples
    np.testing.assert_allclose(correct, np.round(correct), atol=1e-3)
    # the same random_state gives the same split and the same run
    again = fit(X, y, **params)
    assert again.validation_scores_ == clf.validation_scores_


@pytest.mark.slow
def test_validation_split_records_without_stopping(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=4, validation_split=0.25)
    assert clf.n_iter_ == 4 and len(clf.history_["val_accuracy"]) == 4
    assert clf.validation_scores_ is None


def test_shuffle_changes_the_order_of_updates(digits_flat):
    X, y = digits_flat
    shuffled = fit(X, y, epochs=2)
    in_order = fit(X, y, epochs=2, shuffle=False)
    assert not np.allclose(shuffled.predict_proba(X), in_order.predict_proba(X))


@pytest.mark.slow
def test_warm_start_continues_training(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=2, warm_start=True)
    first_losses = list(clf.loss_curve_)
    clf.set_params(epochs=3).fit(X, y)
    # as in MLPClassifier: n_iter_ counts this call, the curve both calls
    assert clf.n_iter_ == 3 and clf.loss_curve_[:2] == first_losses
    assert len(clf.loss_curve_) == 5 and clf.t_ == 5 * len(X)
    assert len(clf.history_["loss"]) == 5
    assert clf.loss_curve_[2] < first_losses[0]  # went on from trained weights
    cold = fit(X, y, epochs=2).set_params(epochs=3).fit(X, y)
    assert cold.n_iter_ == 3


@pytest.mark.slow
def test_partial_fit_needs_classes_first_then_keeps_learning(
    training_path, digits_flat
):
    X, y = digits_flat
    clf = KerasMLPClassifier(random_state=0, learning_rate_init=0.01)
    with pytest.raises(
        ValueError, match="classes must be passed on the first call to partial_fit."
    ):
        clf.partial_fit(X[:100], y[:100])
    first = y < 5  # the first batch lacks half of the classes
    clf.partial_fit(X[first], y[first], classes=np.arange(10))
    assert clf.classes_.tolist() == list(range(10)) and clf.n_iter_ == 1
    scores = []
    for _ in range(6):
        clf.partial_fit(X, y)
        scores.append(clf.score(X, y))
    # as in MLPClassifier: n_iter_ is the last call's one epoch
    assert (
        clf.n_iter_ == 1
        and len(clf.loss_curve_) == 7
        and clf.t_ == 6 * len(X) + first.sum()
    )
    assert scores[-1] > scores[0] and scores[-1] > 0.8
    assert set(clf.predict(X)) - set(range(5))  # learned the classes it met later


@pytest.mark.slow
def test_verbose_prints_keras_progress(training_path, digits_flat, capfd):
    X, y = digits_flat
    fit(X, y, epochs=2, verbose=2)
    out = capfd.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss" in out
    fit(X, y, epochs=1, verbose=0)
    assert capfd.readouterr().out == ""
