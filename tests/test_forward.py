"""The NumPy forward pass predicts what the Keras network predicts, row by row."""

import numpy as np
import pytest
from sklearn.base import clone

from skmnist import KerasMLPClassifier

from ._properties import assert_rows_answer_as_in_the_whole


def test_numpy_forward_pass_matches_keras(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=2, random_state=0, dropout=0.2).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.model_.predict(X, verbose=0), atol=1e-5
    )
    assert_rows_answer_as_in_the_whole(clf, X)


@pytest.mark.jax
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


@pytest.mark.jax
def test_keras_only_activation_still_predicts(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=2, activation="gelu")
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.model_.predict(X, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.jax
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


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)
