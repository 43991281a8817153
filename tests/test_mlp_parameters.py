"""MLPClassifier's parameters and fitted attributes: each one reaches Keras."""

import math

import keras
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier

from skmnist import KerasMLPClassifier


def fit(X, y, **params):
    return KerasMLPClassifier(**{"random_state": 0, **params}).fit(X, y)


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


def test_solver_and_its_parameters_reach_the_optimizer(digits_flat):
    X, y = digits_flat
    adam = fit(X, y, epochs=1, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    assert isinstance(adam.model_.optimizer, keras.optimizers.Adam)
    config = adam.model_.optimizer.get_config()
    assert np.isclose(config["beta_1"], 0.8) and np.isclose(config["beta_2"], 0.99)
    assert np.isclose(config["epsilon"], 1e-6)
    sgd = fit(X, y, epochs=1, solver="sgd", momentum=0.5, nesterovs_momentum=False)
    assert isinstance(sgd.model_.optimizer, keras.optimizers.SGD)
    config = sgd.model_.optimizer.get_config()
    assert np.isclose(config["momentum"], 0.5) and config["nesterov"] is False
    # optimizer, when given, wins over solver
    rms = fit(X, y, epochs=1, solver="sgd", optimizer="rmsprop")
    assert isinstance(rms.model_.optimizer, keras.optimizers.RMSprop)


def test_alpha_penalises_the_weights(digits_flat):
    X, y = digits_flat
    plain = fit(X, y, epochs=5)
    penalised = fit(X, y, epochs=5, alpha=1.0)

    def norm(clf):
        return sum(float((w**2).sum()) for w in clf.coefs_)

    assert norm(penalised) < 0.7 * norm(plain)
    assert penalised.loss_ > plain.loss_  # the loss includes the penalty


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


def test_validation_split_records_without_stopping(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=4, validation_split=0.25)
    assert clf.n_iter_ == 4 and len(clf.history_["val_accuracy"]) == 4
    assert clf.validation_scores_ is None


def test_dropout_layers_train_but_do_not_predict(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=3, dropout=0.3)
    rates = [layer.rate for layer in clf.model_.layers if "dropout" in layer.name]
    assert rates == [0.3, 0.3]
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    keras_proba = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), keras_proba, atol=1e-5)
    plain = fit(X, y, epochs=3)
    assert not np.allclose(plain.predict_proba(X), clf.predict_proba(X))
    again = fit(X, y, epochs=3, dropout=0.3)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_shuffle_changes_the_order_of_updates(digits_flat):
    X, y = digits_flat
    shuffled = fit(X, y, epochs=2)
    in_order = fit(X, y, epochs=2, shuffle=False)
    assert not np.allclose(shuffled.predict_proba(X), in_order.predict_proba(X))


def test_warm_start_continues_training(training_path, digits_flat):
    X, y = digits_flat
    clf = fit(X, y, epochs=2, warm_start=True)
    first_losses = list(clf.loss_curve_)
    clf.set_params(epochs=3).fit(X, y)
    assert clf.n_iter_ == 5 and clf.loss_curve_[:2] == first_losses
    assert len(clf.history_["loss"]) == 5
    assert clf.loss_curve_[2] < first_losses[0]  # went on from trained weights
    cold = fit(X, y, epochs=2).set_params(epochs=3).fit(X, y)
    assert cold.n_iter_ == 3


def test_partial_fit_needs_classes_first_then_keeps_learning(
    training_path, digits_flat
):
    X, y = digits_flat
    clf = KerasMLPClassifier(random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X[:100], y[:100])
    first = y < 5  # the first batch lacks half of the classes
    clf.partial_fit(X[first], y[first], classes=np.arange(10))
    assert clf.classes_.tolist() == list(range(10)) and clf.n_iter_ == 1
    scores = []
    for _ in range(6):
        clf.partial_fit(X, y)
        scores.append(clf.score(X, y))
    assert clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    assert scores[-1] > scores[0] and scores[-1] > 0.8
    assert set(clf.predict(X)) - set(range(5))  # learned the classes it met later


def test_verbose_prints_keras_progress(training_path, digits_flat, capfd):
    X, y = digits_flat
    fit(X, y, epochs=2, verbose=2)
    out = capfd.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "loss" in out
    fit(X, y, epochs=1, verbose=0)
    assert capfd.readouterr().out == ""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_grid_written_for_mlpclassifier_runs_unchanged(digits_flat):
    X, y = digits_flat
    X, y = X[:600], y[:600]
    grid = {
        "hidden_layer_sizes": [(64, 32)],
        "alpha": [0.001],
        "solver": ["adam", "sgd"],
        "learning_rate_init": [0.01],
        "learning_rate": ["adaptive"],
        "batch_size": ["auto"],
        "early_stopping": [True],
        "validation_fraction": [0.1],
    }
    results = {}
    for estimator in (
        MLPClassifier(max_iter=20, random_state=0),
        KerasMLPClassifier(epochs=20, random_state=0),
    ):
        search = GridSearchCV(estimator, grid, cv=2).fit(X, y)
        assert len(search.cv_results_["params"]) == 2
        results[type(estimator).__name__] = search
    keras_search = results["KerasMLPClassifier"]
    assert keras_search.best_score_ > results["MLPClassifier"].best_score_ - 0.05
    assert keras_search.best_estimator_.n_iter_ <= 20


def test_a_randomstate_seeds_like_an_int(digits_flat):
    X, y = digits_flat

    def proba(seed):
        clf = fit(X, y, epochs=1, random_state=np.random.RandomState(seed))
        return clf.predict_proba(X[:20])

    np.testing.assert_array_equal(proba(1), proba(1))
    assert not np.allclose(proba(1), proba(2))
