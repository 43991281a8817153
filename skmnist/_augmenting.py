"""The Keras layer that augments flat image rows: random affine moves and elastic distortion.

:meth:`skmnist.ImageAugmentation.make_layer` builds it; this module imports
Keras, the parameter object does not. Rows arrive flat, ``(n, height *
width)``, as the flattener hands them on; the layer reshapes them into
images, draws each image's moves from Keras' preprocessing layers
(``RandomRotation``, ``RandomZoom``, ``RandomShear``, ``RandomTranslation``)
and its elastic distortion, and reads each image back once, bilinearly,
black outside the image as MNIST's background is. Outside training it is
the identity. :class:`Augmenter` runs it as a compiled function, for a
training loop that augments the rows of its next batches before its own
compiled step.

The moves are those the four Keras layers would make one after another,
composed into one affine map per image: one bilinear read instead of one
per layer (a quarter of the work, and less blur), and written from
gathers, which XLA compiles on TensorFlow too (Keras' layers run
TensorFlow's ``ImageProjectiveTransformV3``, which it does not).

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
import threading

import keras
import numpy as np
from keras import ops

from . import _compat

# Where an image's pixels are read from outside the image: black, as MNIST's
# background.
_FILL = {"fill_mode": "constant", "fill_value": 0.0}


def _stream_seeds(seed, count):
    """``count`` independent integer seeds from one, or ``None`` for each."""
    if seed is None:
        return [None] * count
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(count)]


def _uniform_noise(shape, generator, dtype, xla):
    """Uniform noise in [-1, 1] drawn from ``generator``, a :class:`keras.random.SeedGenerator`.

    ``keras.random.uniform``; but in a function compiled with XLA (``xla``)
    on TensorFlow, drawn by the Threefry generator: XLA runs TensorFlow's
    default one a hundred times slower on the CPU (seconds for a chunk's
    noise, as for dropout masks, see
    :func:`skmnist._compat.threefry_dropout`), and TensorFlow's kernels
    outside XLA cannot run Threefry.
    """
    if not xla or keras.backend.backend() != "tensorflow":
        return keras.random.uniform(shape, -1.0, 1.0, seed=generator, dtype=dtype)
    import tensorflow as tf

    # TensorFlow's stateless generators take an int32 seed; Keras' state is int64.
    seed = tf.cast(tf.math.floormod(generator.next(), tf.int32.max - 1), tf.int32)
    return tf.random.stateless_uniform(
        shape, seed, minval=-1.0, maxval=1.0, dtype=dtype, alg="threefry"
    )


def _gaussian_blur(images, sigma, kernel_size):
    """Images ``(n, height, width)`` smoothed by a Gaussian; zero outside.

    The Gaussian reaches ``kernel_size // 2`` pixels each side. Keras has
    ``ops.image.gaussian_blur`` only from 3.9; this is the same blur, as
    two matrix products (the Gaussian is separable, and a blur along a line
    of pixels, zero outside, is a banded matrix): XLA runs those fast on
    the CPU, and depthwise convolutions a hundred times slower.
    """
    radius = kernel_size // 2
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()

    def along(size):
        """The blur of a line of ``size`` pixels, as ``line @ blur``."""
        offsets = np.arange(size)[None, :] - np.arange(size)[:, None]
        weights = kernel[np.clip(offsets + radius, 0, 2 * radius)]
        return ops.cast(np.where(np.abs(offsets) <= radius, weights, 0), images.dtype)

    # Along the rows, then (transposed) along the columns.
    for _ in range(2):
        size = images.shape[2]
        lines = ops.matmul(ops.reshape(images, (-1, size)), along(size))
        images = ops.transpose(
            ops.reshape(lines, (-1, images.shape[1], size)), (0, 2, 1)
        )
    return images


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


def _grid(height, width, dtype):
    """The row and the column of each pixel, shaped to broadcast to ``(n, height, width)``."""
    rows = ops.cast(ops.arange(height), dtype)[None, :, None]
    columns = ops.cast(ops.arange(width), dtype)[None, None, :]
    return rows, columns


def _compose(transforms):
    """Keras' affine transforms ``(n, 8)``, applied one after another, as one ``(n, 3, 3)``.

    A transform maps each output pixel's ``(x, y, 1)`` to where it is read
    from in its input, so the image the last one makes reads the first
    one's input at ``first @ ... @ last`` of its pixel.
    """
    matrices = []
    for transform in transforms:
        n = ops.shape(transform)[0]
        last_row = ops.tile(ops.cast([[0.0, 0.0, 1.0]], transform.dtype), (n, 1))
        rows = ops.concatenate([transform[:, :6], last_row], axis=1)
        matrices.append(ops.reshape(rows, (-1, 3, 3)))
    result = matrices[0]
    for matrix in matrices[1:]:
        result = ops.matmul(result, matrix)
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

    def displacement(self, n, height, width, dtype, xla=False):
        """How far each pixel moves, ``(rows, columns)``, each ``(n, height, width)``.

        ``xla``: whether the caller is traced for XLA (see `_uniform_noise`).
        """
        noise = _uniform_noise((2 * n, height, width), self.generator, dtype, xla)
        field = self.alpha * _gaussian_blur(noise, self.sigma, self.kernel_size)
        return field[:n], field[n:]

    def call(self, images, training=None):
        if not training or self.alpha == 0:
            return images
        n, height, width = ops.shape(images)[0], images.shape[1], images.shape[2]
        rows, columns = _grid(height, width, images.dtype)
        down, across = self.displacement(n, height, width, images.dtype)
        # Where each pixel of the output is read from, image by image.
        return _read_at(images[..., 0], rows + down, columns + across)[..., None]

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
            # Keras marks its image layers as not compilable with XLA (their
            # transform on TensorFlow has no XLA kernel); this layer only
            # draws from them. On TensorFlow the mark stays: a model that
            # holds the layer then runs outside XLA, where TensorFlow's
            # default generator draws the elastic noise fast (Augmenter
            # compiles with XLA and draws it by Threefry).
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

    def call(self, inputs, training=None, xla=False):
        """``inputs`` augmented when ``training``; ``xla``: whether traced for XLA."""
        if not training or not self.steps:
            return inputs
        height, width = self.image_shape
        images = ops.reshape(inputs, (-1, height, width, 1))
        rows, columns = _grid(height, width, images.dtype)
        # Where each output pixel is read from: displaced by the elastic
        # field (the last step), then carried back through the moves.
        n = ops.shape(images)[0]
        moves = []
        for step in self.steps:
            if isinstance(step, ElasticDistortion):
                down, across = step.displacement(n, height, width, images.dtype, xla)
                rows, columns = rows + down, columns + across
            else:
                moves.append(_compat.image_layer_transform(step, images))
        if moves:
            m = _compose(moves)[:, :, :, None, None]
            rows, columns = (
                m[:, 1, 0] * columns + m[:, 1, 1] * rows + m[:, 1, 2],
                m[:, 0, 0] * columns + m[:, 0, 1] * rows + m[:, 0, 2],
            )
        return ops.reshape(
            _read_at(images[..., 0], rows, columns), (-1, height * width)
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "image_shape": self.image_shape,
            **self.settings,
            "seed": self.seed,
        }


# Compiled augmentations, kept across fits: {(backend, dtype, image shape,
# settings, n_features): function of (seed states, rows)}. The seeds are
# arguments, not constants, so every fit of the same settings (the folds
# and candidates of a search) runs one compiled function.
_COMPILED = {}
_COMPILED_LOCK = threading.Lock()

# The fewest rows a call compiles for: calls are padded up to a power of two
# rows, so the sizes of epochs' last batches share a few programs.
_MIN_ROWS = 32


def _compiled(layer, n_features):
    """The compiled ``(state, rows) -> (augmented rows, state)`` of ``layer``'s settings."""
    key = (
        keras.backend.backend(),
        layer.compute_dtype,
        layer.image_shape,
        tuple(sorted(layer.settings.items())),
        n_features,
    )
    with _COMPILED_LOCK:
        if key not in _COMPILED:
            _COMPILED[key] = _compile(layer, n_features)
        return _COMPILED[key]


def _compile(layer, n_features):
    def run(state, rows):
        out, state = layer.stateless_call([], state, rows, training=True, xla=True)
        return out, state

    if keras.backend.backend() == "jax":
        import jax

        return jax.jit(run)
    import tensorflow as tf

    state = [tf.TensorSpec(v.shape, v.dtype) for v in layer.non_trainable_variables]
    rows = tf.TensorSpec((None, n_features), layer.compute_dtype)
    return tf.function(
        run, input_signature=(state, rows), jit_compile=True, autograph=False
    )


class Augmenter:
    """A compiled function of the training rows that augments them, call after call.

    For a training loop that keeps the augmentation out of its compiled
    step: the rows of the batches to come are augmented here first, in one
    XLA-compiled function (on TensorFlow or JAX), and the loop then trains
    on them. Each call draws anew for every row, from the layer's seed
    generators, whose state this object carries from call to call. The
    compiled function is shared by every augmenter of the same settings and
    row size; a call of ``n`` rows augments the next power of two rows (at
    least `_MIN_ROWS`) and returns the first ``n``, so that calls of a few
    sizes share a program.

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
        self.state = [
            ops.convert_to_tensor(v.value) for v in layer.non_trainable_variables
        ]
        self._run = _compiled(layer, n_features)

    def __call__(self, rows):
        """``rows`` (n, n_features) augmented, as a tensor of the backend."""
        n = rows.shape[0]
        size = max(_MIN_ROWS, 1 << (n - 1).bit_length())
        rows = ops.convert_to_tensor(rows, self.layer.compute_dtype)
        if size > n:
            rows = ops.pad(rows, ((0, size - n), (0, 0)))
        out, self.state = self._run(self.state, rows)
        return out[:n] if size > n else out
