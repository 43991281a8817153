import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, check_cv, cross_val_score

from skmnist import KerasMLPClassifier


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)


def test_learns_digits(digits_flat):
    X, y = digits_flat
    clf = fitted(X[:1200], y[:1200], epochs=40)
    assert clf.score(X[1200:], y[1200:]) > 0.9
    assert clf.classes_.tolist() == list(range(10))
    assert clf.n_features_in_ == 64 and clf.n_classes_ == 10


def test_network_is_built_from_the_data(digits_flat):
    X, y = digits_flat
    clf = fitted(X[:, :40], y % 3 + 5, hidden_layer_sizes=(7, 5, 3), epochs=1)
    model = clf.model_
    assert model.input_shape == (None, 40)
    assert [layer.units for layer in model.layers[1:]] == [7, 5, 3, 3]
    assert model.layers[-1].get_config()["activation"] == "softmax"
    assert model.layers[1].get_config()["activation"] == "relu"


def test_defaults_are_the_seed_network():
    params = KerasMLPClassifier().get_params()
    assert params["hidden_layer_sizes"] == (32, 64)
    assert params["activation"] == "relu"
    assert params["solver"] == "adam" and params["optimizer"] is None
    assert params["alpha"] == 0 and params["dropout"] == 0
    assert params["learning_rate_init"] == 0.001
    assert params["epochs"] == 10 and params["batch_size"] == 100
    assert params["verbose"] == 0 and params["random_state"] is None


def test_learning_rate_and_activation_reach_keras(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1, learning_rate_init=0.02, activation="logistic")
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 0.02)
    assert clf.model_.layers[1].get_config()["activation"] == "sigmoid"


@pytest.mark.parametrize(
    "labels",
    [
        np.array(
            [
                "zero",
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
            ]
        ),
        np.array([3, 10, 11, 40, 41, 42, 97, 98, 99, 122]),
        np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ],
    ids=["strings", "non-contiguous", "negative"],
)
def test_labels_come_back_as_they_went_in(digits_flat, labels):
    X, y = digits_flat
    y_named = labels[y]
    clf = fitted(X, y_named)
    assert clf.classes_.tolist() == sorted(labels.tolist())
    predicted = clf.predict(X)
    assert set(predicted) <= set(labels)
    assert np.mean(predicted == y_named) > 0.9
    proba = clf.predict_proba(X[:50])
    # columns follow classes_: the arg-max column is the predicted label
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], predicted[:50])


def test_binary_labels(digits_flat):
    X, y = digits_flat
    y_bool = y >= 5
    clf = fitted(X, y_bool)
    assert clf.classes_.tolist() == [False, True]
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, y_bool) > 0.85


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


def test_same_random_state_same_model(digits_flat):
    X, y = digits_flat
    a = fitted(X, y, epochs=3).predict_proba(X)
    b = fitted(X, y, epochs=3).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = KerasMLPClassifier(epochs=3).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_history_records_each_epoch(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=4)
    assert len(clf.history_["loss"]) == 4 and len(clf.history_["accuracy"]) == 4
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]


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


def test_column_vector_y_is_warned_about_and_used(digits_flat):
    X, y = digits_flat
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clf = fitted(X, y.reshape(-1, 1), epochs=1)
    assert clf.predict(X[:2]).shape == (2,)


def test_routed_parameters_reach_keras(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1, optimizer__beta_1=0.5, fit__validation_split=0.25)
    assert np.isclose(float(clf.model_.optimizer.beta_1), 0.5)
    assert "val_loss" in clf.history_


def test_class_weight_changes_the_model(digits_flat):
    X, y = digits_flat
    plain = fitted(X, y, epochs=5)
    weighted = fitted(X, y, epochs=5, class_weight={3: 50.0})
    # a heavy class is predicted more often
    assert (weighted.predict(X) == 3).sum() > (plain.predict(X) == 3).sum()


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_numpy_predictions_match_keras(digits_flat, activation):
    X, y = digits_flat
    clf = fitted(X, y, epochs=2, activation=activation)
    keras_proba = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), keras_proba, rtol=1e-4, atol=1e-6)
    # routed predict arguments take Keras' own predict loop: same answers
    routed = clone(clf).set_params(predict__batch_size=64).fit(X, y)
    np.testing.assert_allclose(
        routed.predict_proba(X), keras_proba, rtol=1e-4, atol=1e-6
    )


def test_keras_only_activation_still_predicts(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=2, activation="gelu")
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.model_.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_refit_predicts_with_the_new_weights(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1)
    before = clf.predict_proba(X)
    clf.set_params(epochs=5).fit(X, y)
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(
        after, clf.model_.predict(X, verbose=0), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize(
    "n_samples, batch_size", [(600, 100), (700, 100), (650, 100), (1797, 32)]
)
def test_an_epoch_is_one_pass_over_the_data(digits_flat, n_samples, batch_size):
    X, y = digits_flat
    clf = fitted(X[:n_samples], y[:n_samples], epochs=3, batch_size=batch_size)
    steps = -(-n_samples // batch_size)
    assert int(clf.model_.optimizer.iterations) == 3 * steps
    # continuing on data of another size keeps counting whole passes
    clf.set_params(warm_start=True, epochs=2).fit(X[:500], y[:500])
    assert int(clf.model_.optimizer.iterations) == 3 * steps + 2 * -(-500 // batch_size)


def test_a_misspelt_parameter_is_refused_with_a_suggestion(digits_flat):
    clf = KerasMLPClassifier(epoch=5)  # __init__ only stores, as sklearn asks
    with pytest.raises(TypeError, match=r"parameter 'epoch'\. Did you mean 'epochs'"):
        clf.fit(*digits_flat)
    with pytest.raises(ValueError, match="epoch"):
        KerasMLPClassifier().set_params(epoch=5)
    # names routed to Keras stay open-ended, and survive clone
    clf = clone(KerasMLPClassifier(fit__validation_batch_size=7))
    assert clf.get_params()["fit__validation_batch_size"] == 7
