"""Random rotation, shift, zoom, shear and elastic distortion of training images."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from ._compat import Interval

__all__ = ["ImageAugmentation"]


class ImageAugmentation(BaseEstimator):
    """Random moves of training images, in pixels, degrees and fractions.

    A setting for training: each training batch is seen rotated, zoomed,
    sheared, shifted and elastically distorted at random, every image on
    its own draw, a new draw every epoch, so the network learns that a
    digit is the same digit a little tilted, thicker or off-centre. Only
    training batches are augmented; rows held out for early stopping and
    everything the network predicts are not. The defaults are a sound
    augmentation for handwritten digits such as MNIST's 28x28 images.

    The moves are Keras' preprocessing layers ``RandomRotation``,
    ``RandomZoom``, ``RandomShear`` and ``RandomTranslation``, in that
    order, then the elastic distortion, with what comes in from outside
    the image black (0). A setting of 0 leaves its move out, so all zeros
    change nothing. The moves are composed and each image is read back
    once, with bilinear interpolation, which blurs thin strokes slightly.

    Parameters
    ----------
    rotation : float, default=10.0
        Largest rotation, in degrees: each image turns by an angle drawn
        uniformly from [-`rotation`, `rotation`], about its centre.

    shift : float, default=2.0
        Largest shift, in pixels: each image moves by a distance drawn
        uniformly from [-`shift`, `shift`] along each axis, independently.
        At most the image's smaller side.

    zoom : float, default=0.1
        Largest change of scale, as a fraction in [0, 1): each image is
        resampled at a scale drawn uniformly from [1 - `zoom`, 1 + `zoom`]
        about its centre (Keras' ``RandomZoom``: a factor above 1 shows more
        of the surroundings, so the digit shrinks by that factor; below 1 it
        grows). Height and width keep their ratio.

    shear : float, default=0.0
        Largest shear, in degrees in [0, 45]: rows slide sideways
        (``RandomShear`` along the x axis), so that verticals lean by an
        angle drawn uniformly from [-`shear`, `shear`], a slant as in
        handwriting. Keras shears about the image's top-left corner, so the
        digit's centre also moves sideways, by up to ``tan(shear)`` times
        half the height.

    elastic_alpha : float, default=0.0
        Strength of the elastic distortion, in pixels (0: none). Each pixel
        moves by `elastic_alpha` times a field of uniform noise in [-1, 1]
        smoothed by a Gaussian of standard deviation `elastic_sigma`, drawn
        independently for each axis and each image (Simard et al., 2003,
        used ``elastic_alpha=34, elastic_sigma=4`` on MNIST). Smoothing
        shrinks the noise, so a typical move is a few pixels, not
        `elastic_alpha` pixels.

    elastic_sigma : float, default=4.0
        Smoothness of the elastic distortion, in pixels (> 0): the standard
        deviation of the Gaussian that smooths the noise. Small values
        make the distortion ragged and local, large ones make it a gentle
        bend of the whole digit (and weaker at the same `elastic_alpha`).

    See Also
    --------
    skmnist.KerasMLPClassifier : Takes it as its ``augmentation`` parameter.

    Notes
    -----
    The moves draw their randomness from Keras' seeded generators
    (:class:`keras.random.SeedGenerator`): the same seed gives the same
    augmented batches, on TensorFlow and on JAX alike (though not the same
    batches on the two backends).

    References
    ----------
    P. Y. Simard, D. Steinkraus and J. C. Platt, "Best practices for
    convolutional neural networks applied to visual document analysis",
    ICDAR 2003.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import ImageAugmentation
    >>> images = load_digits().images[:4] / 16
    >>> augmentation = ImageAugmentation(rotation=15, shift=1)
    >>> augmentation
    ImageAugmentation(rotation=15, shift=1)
    >>> augmentation.augment(images, random_state=0).shape
    (4, 8, 8)
    """

    _parameter_constraints = {
        "rotation": [Interval(Real, 0, 180, closed="both")],
        "shift": [Interval(Real, 0, None, closed="left")],
        "zoom": [Interval(Real, 0, 1, closed="left")],
        "shear": [Interval(Real, 0, 45, closed="both")],
        "elastic_alpha": [Interval(Real, 0, None, closed="left")],
        "elastic_sigma": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        rotation=10.0,
        shift=2.0,
        zoom=0.1,
        shear=0.0,
        elastic_alpha=0.0,
        elastic_sigma=4.0,
    ):
        self.rotation = rotation
        self.shift = shift
        self.zoom = zoom
        self.shear = shear
        self.elastic_alpha = elastic_alpha
        self.elastic_sigma = elastic_sigma

    def _check(self, image_shape):
        """Validate the settings against images of ``image_shape``; return it."""
        self._validate_params()
        shape = tuple(image_shape) if isinstance(image_shape, tuple | list) else ()
        if len(shape) != 2 or not all(
            isinstance(d, Integral | np.integer) and d > 0 for d in shape
        ):
            raise ValueError(
                "ImageAugmentation needs the shape (height, width) of one image, "
                f"two positive integers; got {image_shape!r}. Rows that are not "
                "images (a flattener fitted on flat rows learns image_shape_ = "
                "(n_features,)) cannot be augmented: fit on images shaped "
                "(n_samples, height, width), or set augmentation=None."
            )
        height, width = (int(d) for d in shape)
        if self.shift > min(height, width):
            raise ValueError(
                f"The 'shift' parameter of ImageAugmentation must be at most the "
                f"smaller side of the images ({min(height, width)} pixels for "
                f"{height}x{width} images); got {self.shift!r}."
            )
        return height, width

    def make_layer(self, image_shape, *, seed=None):
        """The Keras layer that augments flat rows of images of ``image_shape``.

        Parameters
        ----------
        image_shape : tuple of (int, int)
            ``(height, width)`` of one image: the flattener's
            ``image_shape_``.

        seed : int or None, default=None
            Seeds the layer's random generators; ``None`` draws from Keras'
            global seed (:func:`keras.utils.set_random_seed`).

        Returns
        -------
        layer : keras.layers.Layer
            Called on rows ``(n, height * width)`` with ``training=True``,
            returns new rows of the same shape, augmented; with
            ``training`` false or unset, returns its input unchanged. Its
            random state lives in Keras variables of the layer (seed
            generators), so a model that holds the layer carries that state
            through its ``train_step`` on every backend.

        Raises
        ------
        ValueError
            When a setting is out of range, or ``image_shape`` is not the
            shape of an image.
        """
        height, width = self._check(image_shape)
        from ._augmenting import FlatImageAugmentation
        from ._backend import prepare_backend

        # Called before any fit, this may be Keras' first use in the process:
        # its threads and start-up notes are set up as a fit would.
        prepare_backend()

        return FlatImageAugmentation(
            (height, width), seed=seed, **self.get_params(deep=False)
        )

    def augment(self, images, *, random_state=None):
        """Images augmented once, as one training batch would be.

        For looking at what the network is trained on: training augments
        each batch itself.

        Parameters
        ----------
        images : array-like of shape (n_samples, height, width)
            Grey-scale images with pixels in [0, 1], black background.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; the same value gives the same images.

        Returns
        -------
        augmented : ndarray of shape (n_samples, height, width), dtype float32
        """
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 3:
            raise ValueError(
                "ImageAugmentation.augment expects images shaped (n_samples, "
                f"height, width); got an array of shape {images.shape}."
            )
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        layer = self.make_layer(images.shape[1:], seed=seed)
        rows = images.reshape(len(images), -1)
        return np.asarray(layer(rows, training=True)).reshape(images.shape)
