"""The seed network on full MNIST, as a user runs it."""

import pytest

from skmnist import make_mnist_pipeline

from ._properties import assert_rows_answer_as_in_the_whole

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
    # on MNIST's width, where OpenBLAS's kernels for a few rows round otherwise
    assert_rows_answer_as_in_the_whole(pipeline, X_test)
