"""Turn batches of grey-scale images into scaled feature rows."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import _aligned, _validation

__all__ = ["ImageFlattener"]


def _sample_shape(X):
    """The shape of one image, with a trailing channel axis of 1 dropped."""
    shape = X.shape[1:]
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
    return shape


class ImageFlattener(TransformerMixin, BaseEstimator):
    """Flatten grey-scale images into rows of float32 pixels in [0, 1].

    Accepts a batch of images shaped ``(n_samples, height, width)``,
    ``(n_samples, height, width, 1)`` or already flat
    ``(n_samples, height * width)``, as an array, a nested list or a
    DataFrame, of any real dtype. Every pixel is divided by `max_value`, so
    the output lies in [0, 1]; pixels below 0 or above `max_value`, NaN or
    infinite, are refused with a :class:`ValueError` rather than silently
    scaled into nonsense.

    The image shape is learned in :meth:`fit`. :meth:`transform` accepts that
    shape or its flat equivalent, and refuses other sizes. Fitted on flat
    rows, it also accepts grey-scale images of as many pixels.

    Parameters
    ----------
    max_value : float or "auto", default="auto"
        The pixel value that stands for full intensity; output is
        ``X / max_value``. ``"auto"`` decides in :meth:`fit`: 1.0 for floating
        point images whose pixels all lie in [0, 1], else 255 (8-bit images
        such as MNIST). Set it for other ranges, e.g. ``max_value=16`` for
        :func:`sklearn.datasets.load_digits`.

    Attributes
    ----------
    image_shape_ : tuple of int
        Shape of one image seen in :meth:`fit`, without the sample axis and
        without a trailing channel axis of 1; ``(n_features,)`` for flat input.

    max_value_ : float
        The divisor in use: `max_value`, or what ``"auto"`` chose.

    n_features_in_ : int
        Number of pixels per image seen in :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen in :meth:`fit`, when ``X`` was a DataFrame
        with string column names.

    See Also
    --------
    skmnist.make_mnist_pipeline : This transformer followed by the classifier.
    sklearn.preprocessing.MinMaxScaler : Scales each feature by its own range.

    Examples
    --------
    >>> import numpy as np
    >>> from skmnist import ImageFlattener
    >>> images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    >>> ImageFlattener().fit_transform(images)
    array([[0. , 1. , 0.2, 0.4]], dtype=float32)
    """

    def __init__(self, max_value="auto"):
        self.max_value = max_value

    def _check_max_value(self):
        value = self.max_value
        if isinstance(value, str) and value == "auto":
            return None
        if (
            isinstance(value, numbers.Real)
            and not isinstance(value, bool)
            and np.isfinite(value)
            and value > 0
        ):
            return float(value)
        raise ValueError(
            "The 'max_value' parameter of ImageFlattener must be a positive "
            f"finite number or 'auto'; got {value!r}."
        )

    def _accepts(self, shape):
        """Whether images of ``shape`` are what :meth:`fit` saw.

        Images of the fitted shape, or flat rows of as many pixels; after a
        fit on flat rows, also grey-scale images of that many pixels (MNIST's
        ``data`` and ``images`` are the same pictures).
        """
        if shape in (self.image_shape_, (self.n_features_in_,)):
            return True
        return (
            len(self.image_shape_) == 1
            and len(shape) == 2
            and int(np.prod(shape)) == self.n_features_in_
        )

    def _size_error(self, shape, X):
        got = "x".join(map(str, shape))
        if len(self.image_shape_) == 1:
            return ValueError(
                f"X has {int(np.prod(shape))} features, but ImageFlattener is "
                f"expecting {self.n_features_in_} features as input: it was fitted "
                f"on rows of {self.n_features_in_} pixels, got {got} (input of "
                f"shape {X.shape}). Pass rows or images of {self.n_features_in_} "
                "pixels, or refit on images of the new size."
            )
        fitted = "x".join(map(str, self.image_shape_))
        return ValueError(
            f"X has {int(np.prod(shape))} features, but ImageFlattener is "
            f"expecting {self.n_features_in_} features as input: it was fitted "
            f"on {fitted} images, got {got} (input of shape {X.shape}). Resize "
            f"the images to {fitted} or refit on images of the new size."
        )

    def _validate(self, X, reset):
        """Check X; return it as an array and the shape of one image."""
        if (
            not reset
            and _validation.passes_unchanged(
                self, X, (X.shape[1:],) if hasattr(X, "shape") else ()
            )
            and self._accepts(X.shape[1:])
        ):
            return X.reshape(len(X), -1), X.shape[1:]
        X_in = X
        X = check_array(X, allow_nd=True, dtype="numeric", input_name="X")
        shape = _sample_shape(X)
        if reset and len(shape) not in (1, 2):
            raise ValueError(
                "ImageFlattener expects grey-scale images shaped (n_samples, height, "
                "width), (n_samples, height, width, 1) or (n_samples, n_pixels); got "
                f"an array of shape {X.shape}. Convert colour images to grey first."
            )
        if not reset and not self._accepts(shape):
            raise self._size_error(shape, X)
        X = X.reshape(len(X), -1)
        # sklearn's own checks set or compare n_features_in_ and feature names.
        validate_data(
            self,
            X_in if hasattr(X_in, "columns") else X,
            reset=reset,
            skip_check_array=True,
        )
        return X, shape

    def fit(self, X, y=None):
        """Learn the image shape and, for ``max_value="auto"``, the pixel scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width), \
(n_samples, height, width, 1) or (n_samples, n_pixels)
            Training images.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        max_value = self._check_max_value()
        X, shape = self._validate(X, reset=True)
        if max_value is None:
            max_value = 1.0 if X.dtype.kind == "f" and X.max() <= 1.0 else 255.0
        self._check_pixels(X, max_value)
        self.image_shape_ = tuple(int(d) for d in shape)
        self.max_value_ = max_value
        return self

    def _check_pixels(self, X, max_value):
        low, high = X.min(), X.max()
        if low < 0:
            raise ValueError(
                f"Negative values in data passed to ImageFlattener: the smallest "
                f"pixel is {low}, expected pixels in [0, {max_value:g}]."
            )
        if high > max_value:
            raise ValueError(
                f"Pixel values up to {high} passed to ImageFlattener, which "
                f"expects pixels in [0, {max_value:g}]. Set max_value to the "
                "value of full intensity in your images (for instance "
                "ImageFlattener(max_value=65535) for 16-bit images)."
            )

    def _warn_if_scaled_already(self, X):
        """Warn of images in [0, 1] after fitting on a larger scale (say 0..255)."""
        if self.max_value_ <= 1 or not X.size:
            return
        high = X.max()
        if 0 < high <= 1:
            warnings.warn(
                f"ImageFlattener was fitted on pixels up to {self.max_value_:g} "
                f"(max_value_), but every pixel of these images lies in [0, 1]: they "
                f"look scaled already, and dividing them by {self.max_value_:g} again "
                "leaves them almost black, which the classifier was never trained "
                "on. Pass the pixels as they were at fit (for MNIST, 0..255), or "
                "refit on images scaled like these.",
                UserWarning,
                stacklevel=3,
            )

    def transform(self, X):
        """Flatten the images and scale their pixels to [0, 1].

        Parameters
        ----------
        X : array-like of shape (n_samples, height, width), \
(n_samples, height, width, 1) or (n_samples, n_pixels)
            Images of the shape seen in :meth:`fit`, or flat rows of the same
            number of pixels.

        Returns
        -------
        X_flat : ndarray of shape (n_samples, n_pixels), dtype float32
            One row per image, pixels scaled to [0, 1].

        Warns
        -----
        UserWarning
            When the transformer was fitted on a scale larger than 1 (say
            0..255) and every pixel of `X` lies in [0, 1]: images scaled
            already, which a second division would leave almost black.
        """
        check_is_fitted(self)
        X, _ = self._validate(X, reset=False)
        self._check_pixels(X, self.max_value_)
        self._warn_if_scaled_already(X)
        # Always a new array (the caller's is untouched), one Keras can train
        # on in place.
        out = _aligned.empty(X.shape, np.float32)
        np.divide(X, np.float32(self.max_value_), out=out, dtype=np.float32)
        return out

    def get_feature_names_out(self, input_features=None):
        """Names of the output pixels.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against `feature_names_in_` when given; the output
            has one name per pixel.

        Returns
        -------
        feature_names_out : ndarray of str objects
            `feature_names_in_` when the transformer was fitted on a
            DataFrame, else ``pixel0``, ``pixel1``, ... in row-major order.
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length {self.n_features_in_}, "
                    f"got {len(input_features)}."
                )
            if names is not None and not np.array_equal(input_features, names):
                raise ValueError("input_features is not equal to feature_names_in_")
            names = input_features
        if names is not None:
            return np.asarray(names, dtype=object)
        return np.asarray(
            [f"pixel{i}" for i in range(self.n_features_in_)], dtype=object
        )

    def __skmnist_getstate__(self):
        """The fitted attributes, for :func:`skmnist.save`; no arrays."""
        check_is_fitted(self)
        state = {k: v for k, v in vars(self).items() if k.endswith("_")}
        return state, []

    def __skmnist_setstate__(self, state, arrays):
        """Become the fitted transformer ``state`` describes (:func:`skmnist.load`)."""
        vars(self).update(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
