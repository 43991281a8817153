"""The speed paths give what the plain paths give: compiled epochs, NumPy predict."""

import numpy as np
import pytest
from sklearn.base import clone

from skmnist import KerasMLPClassifier, _fast, make_mnist_pipeline


def test_compiled_epochs_train_the_model_fit_trains(
    mnist_train, mnist_test, monkeypatch
):
    X, y = mnist_train
    X, y = X[:6000], y[:6000]
    X_test, y_test = mnist_test
    results = {}
    for path, threshold in (("compiled", 0), ("fit", 10**9)):
        monkeypatch.setattr(_fast, "MIN_COMPILED_STEPS", threshold)
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


def test_each_fit_takes_the_path_its_length_calls_for(digits_flat, monkeypatch):
    X, y = digits_flat  # 1,797 samples: 18 steps an epoch
    monkeypatch.setattr(_fast, "MIN_COMPILED_STEPS", 50)
    short = KerasMLPClassifier(epochs=2, random_state=0).fit(X, y)
    assert short._training_loop == "keras"
    long = KerasMLPClassifier(epochs=3, random_state=0).fit(X, y)
    assert long._training_loop == "compiled"
    # arguments only Model.fit understands take Keras' loop whatever the length
    routed = KerasMLPClassifier(epochs=3, random_state=0, fit__validation_batch_size=7)
    assert routed.fit(X, y)._training_loop == "keras"


def test_numpy_forward_pass_matches_keras(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=2, random_state=0, dropout=0.2).fit(X, y)
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.model_.predict(X, verbose=0), atol=1e-5
    )
    # each row the same, to float64 rounding, whatever else is in the batch
    np.testing.assert_allclose(
        clf.predict_proba(X[:1]), clf.predict_proba(X)[:1], rtol=1e-12
    )


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)


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
