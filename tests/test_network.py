"""The network: layers built from the data, activations, penalty and dropout."""

import numpy as np
import pytest

from skmnist import KerasMLPClassifier

pytestmark = pytest.mark.jax


def fitted(X, y, **params):
    return KerasMLPClassifier(**{"random_state": 0, **params}).fit(X, y)


def test_network_is_built_from_the_data(digits_flat):
    X, y = digits_flat
    clf = fitted(X[:, :40], y % 3 + 5, hidden_layer_sizes=(7, 5, 3), epochs=1)
    model = clf.model_
    assert model.input_shape == (None, 40)
    assert [layer.units for layer in model.layers[1:]] == [7, 5, 3, 3]
    assert model.layers[-1].get_config()["activation"] == "softmax"
    assert model.layers[1].get_config()["activation"] == "relu"


def test_learning_rate_and_activation_reach_keras(digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=1, learning_rate_init=0.02, activation="logistic")
    assert np.isclose(float(clf.model_.optimizer.learning_rate), 0.02)
    assert clf.model_.layers[1].get_config()["activation"] == "sigmoid"


def test_alpha_penalises_the_weights(digits_flat):
    X, y = digits_flat
    plain = fitted(X, y, epochs=5)
    penalised = fitted(X, y, epochs=5, alpha=1.0)

    def norm(clf):
        return sum(float((w**2).sum()) for w in clf.coefs_)

    assert norm(penalised) < 0.7 * norm(plain)
    assert penalised.loss_ > plain.loss_  # the loss includes the penalty


@pytest.mark.slow
def test_dropout_layers_train_but_do_not_predict(training_path, digits_flat):
    X, y = digits_flat
    clf = fitted(X, y, epochs=3, dropout=0.3)
    rates = [layer.rate for layer in clf.model_.layers if "dropout" in layer.name]
    assert rates == [0.3, 0.3]
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    keras_proba = clf.model_.predict(X, verbose=0)
    np.testing.assert_allclose(clf.predict_proba(X), keras_proba, atol=1e-5)
    plain = fitted(X, y, epochs=3)
    assert not np.allclose(plain.predict_proba(X), clf.predict_proba(X))
    again = fitted(X, y, epochs=3, dropout=0.3)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
