"""make_mnist_pipeline: its steps, the design card's search, its bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from skmnist import ImageFlattener, KerasMLPClassifier, make_mnist_pipeline

from ._bad_input import BAD_PIXELS, BAD_PIXELS_IDS, BAD_X, BAD_X_IDS, call_entry_point
from ._properties import property_settings, random_arrays

pytestmark = pytest.mark.jax


def test_steps_and_parameters():
    pipe = make_mnist_pipeline(epochs=3, hidden_layer_sizes=(16,))
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["flatten", "mlp"]
    assert isinstance(pipe.named_steps["flatten"], ImageFlattener)
    assert isinstance(pipe.named_steps["mlp"], KerasMLPClassifier)
    params = pipe.get_params()
    assert params["mlp__epochs"] == 3 and params["mlp__hidden_layer_sizes"] == (16,)
    assert is_classifier(pipe)
    assert clone(pipe).get_params()["mlp__epochs"] == 3


@pytest.mark.slow
def test_grid_search_over_epochs_and_widths(local_search):
    # epochs (1, 3) x widths ((16,), (32, 64)), 3 folds, on 3,000 images
    assert local_search["best_params"] == {
        "mlp__epochs": 3,
        "mlp__hidden_layer_sizes": (32, 64),
    }
    assert len(local_search["mean_test_score"]) == 4
    # refitted on the 3,000 images for 3 epochs: 0.82 here
    assert local_search["test_score"] > 0.75


def test_images_of_another_size(digits):
    images, y = digits
    pipe = make_mnist_pipeline(epochs=30, random_state=0).set_params(
        flatten__max_value=16
    )
    pipe.fit(images[:1400], y[:1400])
    assert pipe.named_steps["mlp"].n_features_in_ == 64
    assert pipe.score(images[1400:], y[1400:]) > 0.85
    assert pipe.predict(images[:1]).tolist() == [y[0]]


# -- bad input: the pipeline's entry points --------------------------------------


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["fit", "predict"])
@pytest.mark.parametrize("case, make, error, message", BAD_X, ids=BAD_X_IDS)
def test_bad_X(bad_input_fitted, bad_input_data, method, case, make, error, message):
    X = make(bad_input_data[0])
    with pytest.raises(error, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, "pipeline", method, X)


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["fit", "predict"])
@pytest.mark.parametrize("case, make, message", BAD_PIXELS, ids=BAD_PIXELS_IDS)
def test_pixels_out_of_range(
    bad_input_fitted, bad_input_data, method, case, make, message
):
    X = make(bad_input_data[0])
    with pytest.raises(ValueError, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, "pipeline", method, X)


@pytest.mark.bad_input
def test_other_size_at_predict_than_at_fit(bad_input_fitted):
    with pytest.raises(ValueError, match="fitted on 8x8 images, got 5x5"):
        bad_input_fitted["pipeline"].predict(np.zeros((3, 5, 5)))


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_use_before_fit(bad_input_data, method):
    images, _, y = bad_input_data
    args = (images, y) if method == "score" else (images,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(make_mnist_pipeline(), method)(*args)


@property_settings()
@given(data=random_arrays())
def test_random_arrays_into_a_fitted_pipeline(bad_input_fitted, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            predicted = bad_input_fitted["pipeline"].predict(data)
        except (ValueError, TypeError):
            return
    assert len(predicted) == len(data) and set(predicted) <= set(range(10))
