"""The seed network on full MNIST, as a user runs it."""

import numpy as np
import pytest

from skmnist import make_mnist_pipeline

pytestmark = pytest.mark.jax


def test_seed_pipeline_on_full_mnist(mnist_train, mnist_test):
    X, y = mnist_train
    X_test, y_test = mnist_test
    pipeline = make_mnist_pipeline(random_state=0).fit(X, y)
    assert pipeline.score(X_test, y_test) >= 0.96
    history = pipeline.named_steps["mlp"].history_
    assert len(history["loss"]) == 10
    # the seed fit (6,000 steps) is long enough for the compiled epochs
    assert pipeline.named_steps["mlp"]._training_loop == "compiled"
    # An image's probabilities do not depend on the images predicted with it,
    # bit for bit: one image, a few, hundreds, at any offset.
    everything = pipeline.predict_proba(X_test)
    for start, stop in [(0, 1), (7, 8), (3, 35), (100, 700), (9000, 10000)]:
        np.testing.assert_array_equal(
            pipeline.predict_proba(X_test[start:stop]), everything[start:stop]
        )
