"""KerasMLPClassifier's public face: parameters, fit and predict, tags, bad input."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
)
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import FunctionTransformer

from skmnist import KerasMLPClassifier, make_mnist_pipeline

from ._bad_input import BAD_X, BAD_X_IDS, call_entry_point

pytestmark = pytest.mark.jax


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)


def test_learns_digits(digits_flat):
    X, y = digits_flat
    clf = fitted(X[:1200], y[:1200], epochs=40)
    assert clf.score(X[1200:], y[1200:]) > 0.9
    assert clf.classes_.tolist() == list(range(10))
    assert clf.n_features_in_ == 64 and clf.n_classes_ == 10


def test_defaults_are_the_seed_network():
    params = KerasMLPClassifier().get_params()
    assert params["hidden_layer_sizes"] == (32, 64)
    assert params["activation"] == "relu"
    assert params["solver"] == "adam" and params["optimizer"] is None
    assert params["alpha"] == 0 and params["dropout"] == 0
    assert params["learning_rate_init"] == 0.001
    assert params["epochs"] == 10 and params["batch_size"] == 100
    assert params["verbose"] == 0 and params["random_state"] is None


def test_predict_proba_rows_sum_to_one(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=2)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    single = clf.predict_proba(X[:1])
    assert single.shape == (1, 10)


def test_is_a_classifier_for_sklearn():
    clf = KerasMLPClassifier()
    assert is_classifier(clf)
    assert clf.__sklearn_tags__().estimator_type == "classifier"
    assert not clf.__sklearn_tags__().input_tags.sparse


def test_cross_val_score_uses_stratified_folds(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=20, random_state=0)
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.85


def test_soft_voting_with_logistic_regression(digits_flat):
    X, y = digits_flat
    voting = VotingClassifier(
        [
            ("mlp", KerasMLPClassifier(epochs=10, random_state=0)),
            ("lr", LogisticRegression(max_iter=500)),
        ],
        voting="soft",
    )
    voting.fit(X[:1200], y[:1200])
    assert voting.score(X[1200:], y[1200:]) > 0.9
    assert voting.predict_proba(X[:3]).shape == (3, 10)


def test_clone_keeps_every_parameter():
    clf = KerasMLPClassifier(
        hidden_layer_sizes=(8,), epochs=3, random_state=4, fit__validation_batch_size=7
    )
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert copy.get_params()["fit__validation_batch_size"] == 7


def test_fit_does_not_change_parameters(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(hidden_layer_sizes=[16], epochs=1, class_weight={0: 2.0})
    before = clf.get_params()
    weights = np.ones(len(y))
    clf.fit(X, y, sample_weight=weights)
    assert clf.get_params() == before
    np.testing.assert_array_equal(weights, np.ones(len(y)))


def test_dataframe_input(digits_flat):
    X, y = digits_flat
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = fitted(frame, y, epochs=2)
    assert clf.feature_names_in_[0] == "px0"
    assert clf.predict(frame).shape == (len(y),)


def test_predict_checks_the_number_of_features(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1)
    with pytest.raises(
        ValueError, match="X has 10 features, but KerasMLPClassifier is expecting 64"
    ):
        clf.predict(X[:, :10])


class ReversedColumns(KerasMLPClassifier):
    """A subclass with its own feature encoder (scikeras' hook): columns reversed."""

    @property
    def feature_encoder(self):
        return FunctionTransformer(np.fliplr)


def test_a_feature_encoder_encodes_what_predict_sees_as_what_fit_saw(digits_flat):
    X, y = digits_flat
    encoded = ReversedColumns(epochs=3, random_state=0).fit(X, y)
    # the same network, trained on the columns the encoder hands it
    plain = fitted(np.fliplr(X), y, epochs=3)
    np.testing.assert_allclose(
        encoded.predict_proba(X), plain.predict_proba(np.fliplr(X)), rtol=1e-6
    )
    assert encoded.score(X, y) == plain.score(np.fliplr(X), y) > 0.5


def test_routed_parameters_reach_keras(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1, optimizer__beta_1=0.5, fit__validation_split=0.25)
    assert np.isclose(float(clf.model_.optimizer.beta_1), 0.5)
    assert "val_loss" in clf.history_


def test_solver_and_its_parameters_reach_the_optimizer(digits_flat):
    X, y = digits_flat
    adam = fitted(X, y, epochs=1, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    assert isinstance(adam.model_.optimizer, keras.optimizers.Adam)
    config = adam.model_.optimizer.get_config()
    assert np.isclose(config["beta_1"], 0.8) and np.isclose(config["beta_2"], 0.99)
    assert np.isclose(config["epsilon"], 1e-6)
    sgd = fitted(X, y, epochs=1, solver="sgd", momentum=0.5, nesterovs_momentum=False)
    assert isinstance(sgd.model_.optimizer, keras.optimizers.SGD)
    config = sgd.model_.optimizer.get_config()
    assert np.isclose(config["momentum"], 0.5) and config["nesterov"] is False
    # optimizer, when given, wins over solver
    rms = fitted(X, y, epochs=1, solver="sgd", optimizer="rmsprop")
    assert isinstance(rms.model_.optimizer, keras.optimizers.RMSprop)


@pytest.mark.slow
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


# -- bad input: the classifier's entry points ------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["fit", "predict"])
@pytest.mark.parametrize("case, make, error, message", BAD_X, ids=BAD_X_IDS)
def test_bad_X(bad_input_fitted, bad_input_data, method, case, make, error, message):
    X = make(bad_input_data[1])
    with pytest.raises(error, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, "classifier", method, X)


@pytest.mark.bad_input
def test_other_size_at_predict_than_at_fit(bad_input_fitted):
    with pytest.raises(
        ValueError, match="X has 10 features, but KerasMLPClassifier is expecting 64"
    ):
        bad_input_fitted["classifier"].predict(np.zeros((3, 10)))


# Hyperparameters, checked at fit: (params, message)
BAD_PARAMS = [
    (
        {"hidden_layer_sizes": (0,)},
        r"'hidden_layer_sizes' parameter .* sequence of ints >= 1\. Got \(0,\)",
    ),
    ({"hidden_layer_sizes": "32,64"}, r"'hidden_layer_sizes' parameter .* Got '32,64'"),
    (
        {"hidden_layer_sizes": (32, 2.5)},
        r"'hidden_layer_sizes' parameter .* Got \(32, 2.5\)",
    ),
    ({"epochs": -1}, r"'epochs' parameter .* int in the range \[1, inf\)\. Got -1"),
    ({"epochs": 2.5}, r"'epochs' parameter .* Got 2.5"),
    (
        {"batch_size": 0},
        r"'batch_size' parameter .*'auto'.* int in the range \[1, inf\)\. Got 0",
    ),
    (
        {"activation": "swishy"},
        r"'activation' parameter .* \['identity', 'logistic', 'relu', 'tanh'\].*Got 'swishy'",
    ),
    ({"solver": "newton"}, r"'solver' parameter .*'lbfgs'.* Got 'newton'"),
    ({"alpha": -1.0}, r"'alpha' parameter .* range \[0(\.0)?, inf\)\. Got -1.0"),
    ({"learning_rate": "fast"}, r"'learning_rate' parameter .* Got 'fast'"),
    (
        {"learning_rate_init": 0.0},
        r"'learning_rate_init' parameter .* range \(0(\.0)?, inf\)\. Got 0.0",
    ),
    ({"dropout": 1.0}, r"'dropout' parameter .* range \[0(\.0)?, 1(\.0)?\)\. Got 1.0"),
    ({"momentum": 2}, r"'momentum' parameter .* Got 2"),
    ({"validation_fraction": 0.0}, r"'validation_fraction' parameter .* Got 0.0"),
    ({"early_stopping": "yes"}, r"'early_stopping' parameter .* Got 'yes'"),
    ({"n_iter_no_change": 0}, r"'n_iter_no_change' parameter .* Got 0"),
    ({"tol": -1.0}, r"'tol' parameter .* Got -1.0"),
    ({"class_weight": "uniform"}, r"'class_weight' parameter .* Got 'uniform'"),
    (
        {"optimizer": "no-such-optimizer"},
        r"'optimizer' parameter .* name of a Keras optimizer",
    ),
    ({"modle__units": 3}, r"unknown parameter.*'modle__units'.*fit__"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "params, message",
    BAD_PARAMS,
    ids=[next(iter(p[0])) + "=" + repr(next(iter(p[0].values()))) for p in BAD_PARAMS],
)
def test_bad_hyperparameters_are_refused_at_fit(bad_input_data, params, message):
    images, rows, y = bad_input_data
    clf = KerasMLPClassifier(**params)  # __init__ only stores them
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(rows, y)
    pipe = make_mnist_pipeline(**params)
    with pytest.raises((ValueError, TypeError), match=message):
        pipe.fit(images, y)


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_use_before_fit(bad_input_data, method):
    _, rows, y = bad_input_data
    args = (rows, y) if method == "score" else (rows,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(KerasMLPClassifier(), method)(*args)


def test_a_misspelt_parameter_is_refused_with_a_suggestion(digits_flat):
    clf = KerasMLPClassifier(epoch=5)  # __init__ only stores, as sklearn asks
    with pytest.raises(TypeError, match=r"parameter 'epoch'\. Did you mean 'epochs'"):
        clf.fit(*digits_flat)
    with pytest.raises(ValueError, match="epoch"):
        KerasMLPClassifier().set_params(epoch=5)
    # names routed to Keras stay open-ended, and survive clone
    clf = clone(KerasMLPClassifier(fit__validation_batch_size=7))
    assert clf.get_params()["fit__validation_batch_size"] == 7
