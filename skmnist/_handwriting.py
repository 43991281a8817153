"""Turn a photo or scan of a handwritten digit into an MNIST-style image.

MNIST's digits were made this way: grey levels, light ink on black, the
digit scaled to fit a 20x20 box with its aspect ratio kept, then placed in a
28x28 field so that its centre of mass is at the centre. :func:`read_digit`
does the same to any image file Pillow reads, for any field size (the box is
the same 20/28 of the field).
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

# Share of the field the digit's bounding box is scaled into (MNIST: 20 of 28).
_BOX = 20 / 28
# Pixels fainter than this share of the brightest ink are not ink when cropping.
_INK = 0.25


def read_digit(path, shape=(28, 28)):
    """Read an image file as an MNIST-style digit.

    Parameters
    ----------
    path : str or path-like
        Any image Pillow reads: PNG, JPEG, ...; colour or grey, dark ink on
        light paper or light on dark, any size.

    shape : tuple of int, default=(28, 28)
        ``(height, width)`` of the result: the image size the model was
        fitted on.

    Returns
    -------
    image : ndarray of shape `shape`, dtype uint8
        Light ink (up to 255) on black (0), like MNIST.

    Raises
    ------
    ValueError
        If the file is not an image, or shows no ink.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                # transparent pixels are paper: flatten onto white
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, "white")
                image = Image.alpha_composite(paper, rgba)
            grey = np.asarray(image.convert("L"), dtype=np.float64)
    except FileNotFoundError:
        raise
    except UnidentifiedImageError:
        raise ValueError("not an image file Pillow can read") from None
    except OSError as exc:  # truncated or corrupt image data
        raise ValueError(f"cannot read the image ({exc})") from None

    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if np.median(border) > 127:  # light paper: make the ink the light part
        grey = 255 - grey
        border = 255 - border
    ink = np.clip(grey - np.median(border), 0, None)
    if ink.max() <= 0:
        raise ValueError("no digit found: the image is blank")
    ink *= 255 / ink.max()

    rows = np.flatnonzero((ink > _INK * 255).any(axis=1))
    cols = np.flatnonzero((ink > _INK * 255).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    height, width = shape
    box = max(1, round(_BOX * min(height, width)))
    scale = box / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    digit = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(
            size, Image.Resampling.LANCZOS
        ),
        dtype=np.float64,
    ).clip(0, 255)

    field = np.zeros(shape)
    top, left = (height - digit.shape[0]) // 2, (width - digit.shape[1]) // 2
    field[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return _center_of_mass_to_middle(field).round().clip(0, 255).astype(np.uint8)


def _center_of_mass_to_middle(field):
    from scipy import ndimage

    com = np.array(ndimage.center_of_mass(field))
    middle = np.array(field.shape) / 2  # MNIST's digits: (14, 14) in 28x28
    return ndimage.shift(field, np.round(middle - com), order=0, mode="constant")
