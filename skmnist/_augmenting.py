"""The Keras layer that augments flat image rows: random affine moves and elastic distortion.

:meth:`skmnist.ImageAugmentation.make_layer` builds it; this module imports
Keras, the parameter object does not. Rows arrive flat, ``(n, height *
width)``, as the flattener hands them on; the layer reshapes them into
images, augments them with Keras' preprocessing layers (``RandomRotation``,
``RandomZoom``, ``RandomShear``, ``RandomTranslation``, each filling with
black as MNIST's background is), distorts them elastically, and flattens
them again. Outside training it is the identity. :class:`Augmenter` runs
it as a compiled function, for a training loop that augments the rows of
its next batches before its own compiled step.

Keras' own ``RandomElasticTransform`` does not fit digits, so the elastic
distortion is written here, from Keras operations. Keras 3.15's
``elastic_transform`` draws both displacement fields from one seed (every
pixel moves along the diagonal), derives both the strength and the
smoothness from one random factor per batch, and on JAX cannot take a
traced strength inside ``jax.jit``. Here each image gets two independent
fields, as in Simard, Steinkraus and Platt (2003).
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import keras
import numpy as np
from keras import ops

# Where an image's pixels are read from outside the image: black, as MNIST's
# background.
_FILL = {"fill_mode": "constant", "fill_value": 0.0}


def _stream_seeds(seed, count):
    """``count`` independent integer seeds from one, or ``None`` for each."""
    if seed is None:
        return [None] * count
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]


def _gaussian_blur(images, sigma, kernel_size):
    """Each channel of ``images`` ``(n, height, width, c)`` smoothed by a Gaussian; zero outside.

    Keras has ``ops.image.gaussian_blur`` only from 3.9; this is the same
    depthwise convolution, written from operations Keras 3.8 has.
    """
    offsets = np.arange(kernel_size) - (kernel_size - 1) / 2
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights /= weights.sum()
    channels = images.shape[-1]
    kernel = np.tile(np.outer(weights, weights)[:, :, None, None], (1, 1, channels, 1))
    return ops.depthwise_conv(
        images, ops.cast(kernel, images.dtype), strides=1, padding="same"
    )


def _read_at(images, rows, columns):
    """Images ``(n, height, width)`` read bilinearly at real coordinates; black outside.

    ``rows`` and ``columns`` are ``(n, height, width)``: where each output
    pixel of each image is read from. Each of the four neighbours outside
    the image reads 0. Written as one gather on the flat batch (Keras 3.8's
    ``map_coordinates`` under ``vectorized_map`` fails on TensorFlow).
    """
    n, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
    flat = ops.reshape(images, (-1,))
    first = ops.cast(ops.arange(n), "int32")[:, None, None] * (height * width)
    row0, column0 = ops.floor(rows), ops.floor(columns)
    row_weight, column_weight = rows - row0, columns - column0
    row0, column0 = ops.cast(row0, "int32"), ops.cast(column0, "int32")
    result = ops.zeros_like(rows)
    for d_row, w_row in ((0, 1 - row_weight), (1, row_weight)):
        for d_column, w_column in ((0, 1 - column_weight), (1, column_weight)):
            r, c = row0 + d_row, column0 + d_column
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            index = (
                first + ops.clip(r, 0, height - 1) * width + ops.clip(c, 0, width - 1)
            )
            value = ops.take(flat, index)
            result = result + ops.where(inside, value, 0.0) * w_row * w_column
    return result


@keras.saving.register_keras_serializable(package="skmnist")
class ElasticDistortion(keras.layers.Layer):
    """Elastic distortion of a batch of images ``(n, height, width, 1)``.

    Each pixel of each image moves by ``alpha`` times a random field of
    uniform noise in [-1, 1] smoothed by a Gaussian of standard deviation
    ``sigma`` (both in pixels), drawn independently for the two axes and
    for every image; the image is read back with bilinear interpolation.
    """

    def __init__(self, alpha, sigma, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.sigma = float(sigma)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)
        # The Gaussian's kernel reaches three standard deviations each side.
        self.kernel_size = 2 * math.ceil(3 * self.sigma) + 1

    def call(self, images, training=None):
        if not training or self.alpha == 0:
            return images
        shape = ops.shape(images)
        n, height, width = shape[0], images.shape[1], images.shape[2]
        noise = keras.random.uniform(
            (n, height, width, 2), -1.0, 1.0, seed=self.generator, dtype=images.dtype
        )
        field = self.alpha * _gaussian_blur(noise, self.sigma, self.kernel_size)
        rows = ops.cast(ops.arange(height), images.dtype)[None, :, None]
        columns = ops.cast(ops.arange(width), images.dtype)[None, None, :]
        # Where each pixel of the output is read from, image by image.
        return _read_at(images[..., 0], rows + field[..., 1], columns + field[..., 0])[
            ..., None
        ]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "sigma": self.sigma,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="skmnist")
class FlatImageAugmentation(keras.layers.Layer):
    """Random augmentation of flat rows of grey-scale images; identity outside training.

    Parameters are :class:`skmnist.ImageAugmentation`'s, checked there, with
    ``image_shape`` the ``(height, width)`` of one image.
    """

    def __init__(
        self,
        image_shape,
        rotation,
        shift,
        zoom,
        shear,
        elastic_alpha,
        elastic_sigma,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.settings = {
            "rotation": float(rotation),
            "shift": float(shift),
            "zoom": float(zoom),
            "shear": float(shear),
            "elastic_alpha": float(elastic_alpha),
            "elastic_sigma": float(elastic_sigma),
        }
        self.seed = seed
        self.steps = self._steps(self.image_shape, seed=seed, **self.settings)
        if keras.backend.backend() == "jax":
            # Keras marks its image layers as not compilable with XLA, which
            # holds on TensorFlow (no XLA kernel for its projective
            # transform), not on JAX, whose transforms are jax.numpy: there
            # the mark would only turn Keras' jit_compile off for the model.
            for step in self.steps:
                step.supports_jit = True

    def build(self, input_shape):
        for step in self.steps:
            step.build((input_shape[0], *self.image_shape, 1))

    @staticmethod
    def _steps(
        image_shape, *, rotation, shift, zoom, shear, elastic_alpha, elastic_sigma, seed
    ):
        """Keras' layers for the settings that are not zero, in the user's units."""
        height, width = image_shape
        seeds = _stream_seeds(seed, 5)
        common = {"data_format": "channels_last", **_FILL}
        steps = []
        if rotation:
            # Keras' factor is a fraction of a full turn.
            steps.append(
                keras.layers.RandomRotation(rotation / 360, seed=seeds[0], **common)
            )
        if zoom:
            steps.append(keras.layers.RandomZoom(zoom, seed=seeds[1], **common))
        if shear:
            # Keras' factor is the shear coefficient: the tangent of the angle.
            slope = math.tan(math.radians(shear))
            steps.append(keras.layers.RandomShear(slope, seed=seeds[2], **common))
        if shift:
            # Keras' factors are fractions of the height and of the width.
            steps.append(
                keras.layers.RandomTranslation(
                    shift / height, shift / width, seed=seeds[3], **common
                )
            )
        if elastic_alpha:
            steps.append(ElasticDistortion(elastic_alpha, elastic_sigma, seeds[4]))
        return steps

    def call(self, inputs, training=None):
        if not training or not self.steps:
            return inputs
        height, width = self.image_shape
        images = ops.reshape(inputs, (-1, height, width, 1))
        for step in self.steps:
            images = step(images, training=True)
        return ops.reshape(images, (-1, height * width))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            **self.settings,
            "seed": self.seed,
        }


class Augmenter:
    """A compiled function of the training rows that augments them, call after call.

    For a training loop that keeps the augmentation out of its compiled
    step: on TensorFlow, Keras' image layers have no XLA kernel (an
    XLA-compiled step that holds them fails to compile), so the rows of
    the batches to come are augmented here first, in a TensorFlow graph of
    any number of rows, and the XLA loop then trains on them; on JAX, in a
    jitted function. Each call draws anew for every row, from the layer's
    seed generators, whose state this object carries from call to call.

    Parameters
    ----------
    layer : FlatImageAugmentation
        The layer :meth:`skmnist.ImageAugmentation.make_layer` built.
    n_features : int
        Pixels per row.
    """

    def __init__(self, layer, n_features):
        self.layer = layer
        layer.build((None, n_features))
        if keras.backend.backend() == "jax":
            import jax

            self.state = [v.value for v in layer.non_trainable_variables]
            self._run = jax.jit(
                lambda state, rows: layer.stateless_call([], state, rows, training=True)
            )
        else:
            import tensorflow as tf

            self._run = tf.function(
                lambda rows: layer(rows, training=True),
                input_signature=(tf.TensorSpec((None, n_features), tf.float32),),
                jit_compile=False,
                autograph=False,
            )

    def __call__(self, rows):
        """``rows`` (n, n_features) augmented, as a tensor of the backend."""
        if keras.backend.backend() == "jax":
            out, self.state = self._run(self.state, rows)
            return out
        return self._run(rows)
