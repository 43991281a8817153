"""ImageFlattener: images of any layout to scaled float32 rows; its bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skmnist import ImageFlattener

from ._bad_input import BAD_PIXELS, BAD_PIXELS_IDS, BAD_X, BAD_X_IDS, call_entry_point
from ._properties import property_settings, random_arrays


def test_mnist_images_become_scaled_float32_rows(mnist_test):
    X, _ = mnist_test
    out = ImageFlattener().fit_transform(X)
    assert out.shape == (10000, 784) and out.dtype == np.float32
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_array_equal(
        out, X.reshape(10000, -1).astype(np.float32) / np.float32(255)
    )


@pytest.mark.parametrize(
    "reshape", [lambda X: X, lambda X: X[..., None], lambda X: X.reshape(len(X), -1)]
)
def test_image_layouts_give_the_same_rows(mnist_test, reshape):
    X = mnist_test[0][:50]
    expected = ImageFlattener().fit_transform(X)
    np.testing.assert_array_equal(ImageFlattener().fit_transform(reshape(X)), expected)


def test_shape_is_learned_not_hard_coded(digits):
    images, _ = digits
    flattener = ImageFlattener(max_value=16).fit(images)
    assert flattener.image_shape_ == (8, 8)
    assert flattener.n_features_in_ == 64
    out = flattener.transform(images)
    assert out.shape == (len(images), 64) and out.max() == 1.0


def test_flat_rows_of_the_fitted_size_are_accepted(mnist_test):
    X = mnist_test[0][:10]
    flattener = ImageFlattener().fit(X)
    np.testing.assert_array_equal(
        flattener.transform(X.reshape(10, -1)), flattener.transform(X)
    )


def test_other_image_size_at_transform_is_a_clear_error(mnist_test, digits):
    flattener = ImageFlattener().fit(mnist_test[0][:10])
    with pytest.raises(
        ValueError,
        match="X has 64 features, but ImageFlattener is expecting 784 features as input: "
        "it was fitted on 28x28 images, got 8x8.*Resize the images to 28x28 or refit",
    ):
        flattener.transform(digits[0][:5])
    with pytest.raises(ValueError, match="fitted on 28x28 images, got 64 "):
        flattener.transform(digits[0][:5].reshape(5, -1))


def test_colour_images_are_refused():
    with pytest.raises(
        ValueError,
        match="grey-scale images.*shape \\(2, 4, 4, 3\\).*Convert colour images",
    ):
        ImageFlattener().fit(np.zeros((2, 4, 4, 3), dtype=np.uint8))


def test_nested_lists_and_dataframes(mnist_test):
    X = mnist_test[0][:5]
    expected = ImageFlattener().fit_transform(X)
    np.testing.assert_array_equal(ImageFlattener().fit_transform(X.tolist()), expected)
    frame = pd.DataFrame(X.reshape(5, -1), columns=[f"p{i}" for i in range(784)])
    flattener = ImageFlattener().fit(frame)
    np.testing.assert_array_equal(flattener.transform(frame), expected)
    assert flattener.feature_names_in_[0] == "p0"
    renamed = frame.rename(columns={"p0": "q0"})
    with pytest.raises(ValueError, match="feature names should match"):
        flattener.transform(renamed)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.float32, np.float64])
def test_any_real_dtype_is_scaled_the_same(dtype):
    X = np.array([[[0, 51], [204, 255]]]).astype(dtype)
    np.testing.assert_allclose(
        ImageFlattener().fit_transform(X), [[0, 0.2, 0.8, 1.0]], rtol=1e-6
    )


def test_images_scaled_already_are_warned_about(mnist_test):
    images, _ = mnist_test
    flattener = ImageFlattener().fit(images[:1000])  # uint8: max_value_ 255
    with pytest.warns(UserWarning, match=r"fitted on pixels up to 255 .*scaled"):
        flattener.transform(images[:10] / 255)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        flattener.transform(images[:10])  # raw pixels: no warning
        flattener.transform(np.zeros((2, 28, 28)))  # a blank image is not scaled
        ImageFlattener().fit(images[:10] / 255).transform(images[:10] / 255)


def test_auto_keeps_unit_range_floats():
    X = np.array([[[0.0, 0.5], [0.25, 1.0]]])
    flattener = ImageFlattener().fit(X)
    assert flattener.max_value_ == 1.0
    np.testing.assert_array_equal(flattener.transform(X), [[0, 0.5, 0.25, 1.0]])
    # a uint8 image passed to a unit-range flattener is caught, not squashed
    with pytest.raises(
        ValueError, match=r"Pixel values up to 255.*expects pixels in \[0, 1\]"
    ):
        flattener.transform(np.array([[[0, 255], [3, 4]]], dtype=np.uint8))


def test_explicit_max_value(digits):
    images, _ = digits
    out = ImageFlattener(max_value=16).fit_transform(images)
    assert out.max() == 1.0
    with pytest.raises(ValueError, match="Set max_value"):
        ImageFlattener(max_value=10).fit(images)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "big", True])
def test_bad_max_value_is_refused_at_fit(bad):
    flattener = ImageFlattener(max_value=bad)  # __init__ only stores it
    assert flattener.max_value is bad
    with pytest.raises(
        ValueError, match="'max_value' parameter of ImageFlattener must be"
    ):
        flattener.fit(np.zeros((1, 2, 2)))


def test_input_is_never_modified():
    X = np.full((2, 2, 2), 255.0, dtype=np.float32)
    ImageFlattener().fit_transform(X)
    assert X.max() == 255.0


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        ImageFlattener().transform(np.zeros((1, 2, 2)))


def test_feature_names_and_pandas_output(mnist_test):
    X = mnist_test[0][:3]
    flattener = ImageFlattener().fit(X)
    names = flattener.get_feature_names_out()
    assert len(names) == 784 and names[0] == "pixel0" and names[-1] == "pixel783"
    frame = clone(flattener).set_output(transform="pandas").fit_transform(X)
    assert isinstance(frame, pd.DataFrame) and frame.shape == (3, 784)
    assert list(frame.columns[:2]) == ["pixel0", "pixel1"]


# -- bad input: the flattener's entry points -------------------------------------
# Run on the JAX backend too, as all the bad-input cases always were.


@pytest.mark.jax
@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["fit", "transform"])
@pytest.mark.parametrize("case, make, error, message", BAD_X, ids=BAD_X_IDS)
def test_bad_X(bad_input_fitted, bad_input_data, method, case, make, error, message):
    X = make(bad_input_data[0])
    with pytest.raises(error, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, "flattener", method, X)


@pytest.mark.jax
@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["fit", "transform"])
@pytest.mark.parametrize("case, make, message", BAD_PIXELS, ids=BAD_PIXELS_IDS)
def test_pixels_out_of_range(
    bad_input_fitted, bad_input_data, method, case, make, message
):
    X = make(bad_input_data[0])
    with pytest.raises(ValueError, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, "flattener", method, X)


@pytest.mark.jax
@pytest.mark.bad_input
def test_other_size_at_transform_than_at_fit(bad_input_fitted):
    with pytest.raises(ValueError, match="fitted on 8x8 images, got 28x28"):
        bad_input_fitted["flattener"].transform(np.zeros((3, 28, 28)))


@pytest.mark.jax
@pytest.mark.bad_input
def test_transform_before_fit_says_not_fitted_yet(bad_input_data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ImageFlattener().transform(bad_input_data[0])


@pytest.mark.jax
@property_settings()
@given(random_arrays())
def test_random_arrays_into_the_flattener(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = ImageFlattener().fit_transform(X)
        except (ValueError, TypeError):
            return
    assert out.dtype == np.float32 and out.ndim == 2 and len(out) == len(X)
    assert np.all((out >= 0) & (out <= 1))


def test_fitted_on_flat_rows_it_takes_the_same_pictures_as_images(mnist_train):
    # fetch_mnist's data (n, 784) and images (n, 28, 28) are the same pictures;
    # a pipeline fitted on the first failed on the second with "resize the
    # images to 784", and skmnist predict with "not enough values to unpack".
    images, _ = mnist_train
    images = images[:50]
    flat = images.reshape(len(images), -1)
    flattener = ImageFlattener().fit(flat)
    assert flattener.image_shape_ == (784,)
    np.testing.assert_array_equal(
        flattener.transform(images), flattener.transform(flat)
    )
    np.testing.assert_array_equal(
        flattener.transform(images[..., np.newaxis]), flattener.transform(flat)
    )
    np.testing.assert_array_equal(
        flattener.transform(images.tolist()), flattener.transform(flat)
    )
    np.testing.assert_array_equal(  # 784 pixels in another layout: still 784
        flattener.transform(flat.reshape(-1, 49, 16)), flattener.transform(flat)
    )
    with pytest.raises(
        ValueError,
        match=r"fitted on rows of 784 pixels, got 8x8 .*Pass rows or images of 784 "
        r"pixels, or refit",
    ):
        flattener.transform(np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"fitted on rows of 784 pixels, got 783"):
        flattener.transform(flat[:, :-1])
    with pytest.raises(ValueError, match=r"fitted on rows of 784 pixels, got 28x28x3"):
        flattener.transform(np.zeros((2, 28, 28, 3)))
