"""Turn a photo or scan of a handwritten digit into an MNIST-style image.

MNIST's digits were made this way: grey levels, light ink on black, the
digit scaled to fit a 20x20 box with its aspect ratio kept, then placed in a
28x28 field so that its centre of mass is at the centre. :func:`read_digit`
does the same to any image file Pillow reads, for any field size (the box is
the same 20/28 of the field).

An image file is untrusted input. Its size is read from its header and
checked against :data:`MAX_PIXELS` before anything is decoded; a large image
is reduced to about :data:`WORKING_SIDE` pixels on its long side while it is
read (a JPEG is decoded at 1/2 to 1/8 scale, other formats are box-averaged
a strip at a time), so that reading one costs the decoded image in its own
mode (at most 4 bytes a pixel) plus a few megabytes.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import re
import warnings

import numpy as np

# The most pixels (width x height, from the file's header) read from one image:
# a 50-megapixel photo decodes to at most 200 MB (4 bytes a pixel). Larger
# images are refused before decoding.
MAX_PIXELS = 50_000_000
# Large images are reduced while reading to at least this many pixels on their
# long side: the digit ends up 20 pixels tall, so nothing it needs is lost.
WORKING_SIDE = 1000
# Share of the field the digit's bounding box is scaled into (MNIST: 20 of 28).
_BOX = 20 / 28
# Pixels fainter than this share of the brightest ink are not ink when cropping.
_INK = 0.25
# Pixels of the full-size image converted at a time when reducing it.
_STRIP_PIXELS = 2**22
# Pillow's modes of 16-bit grey pixels, 0..65535.
_MODES_16 = ("I;16", "I;16B", "I;16L", "I;16N")
_TRANSPARENT_MODES = ("RGBA", "LA", "PA", "La", "RGBa")


def read_digit(path, shape=(28, 28)):
    """Read an image file as an MNIST-style digit.

    Parameters
    ----------
    path : str or path-like
        Any image Pillow reads: PNG, JPEG, TIFF, ...; colour or grey (1, 8 or
        16 bits, 32-bit integer or float), dark ink on light paper or light on
        dark, up to :data:`MAX_PIXELS` pixels.

    shape : tuple of int, default=(28, 28)
        ``(height, width)`` of the result: the image size the model was
        fitted on.

    Returns
    -------
    image : ndarray of shape `shape`, dtype uint8
        Light ink (up to 255) on black (0), like MNIST.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not an image, is larger than :data:`MAX_PIXELS`, cannot
        be decoded (truncated or corrupt), or shows no ink.
    """
    grey = _read_grey(path)

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

    from PIL import Image

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


def _read_grey(path):
    """The image as float64 grey levels 0..255, upright, at most about
    :data:`WORKING_SIDE` pixels on its long side (larger if it was smaller)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # MAX_PIXELS is below Pillow's own warning threshold: no warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
    except FileNotFoundError:
        raise
    except UnidentifiedImageError:
        raise ValueError("not an image file Pillow can read") from None
    except Image.DecompressionBombError as exc:  # beyond Pillow's own limit
        pixels = re.search(r"\((\d+) pixels\)", str(exc))
        raise ValueError(_too_large(pixels and f"{int(pixels[1]):,} pixels")) from None
    except OSError as exc:
        raise ValueError(f"cannot read the image ({exc})") from None
    with opened:
        width, height = opened.size
        if width * height > MAX_PIXELS:
            raise ValueError(
                _too_large(f"{width} x {height} = {width * height:,} pixels")
            )
        mode = opened.mode
        try:
            grey = _decode_reduced(opened)
        except (ValueError, MemoryError) as exc:
            reason = str(exc) or "out of memory"
            raise ValueError(f"cannot read the image ({reason})") from None
        except Exception as exc:
            # Pillow on corrupt data: OSError (truncated), SyntaxError, EOFError,
            # struct.error, ...
            raise ValueError(
                f"cannot read the image ({type(exc).__name__}: {exc})"
            ) from None
    return _to_255(np.asarray(grey, dtype=np.float64), mode)


def _too_large(size):
    return (
        f"the image is too large: {size or 'more than Pillow reads'}, more than "
        f"the {MAX_PIXELS:,} pixels skmnist reads; scale it down (the digit is "
        "read at 28 x 28)"
    )


def _decode_reduced(image):
    """Decode ``image``, reduced while decoding to about :data:`WORKING_SIDE`.

    Returns a small Pillow image of mode "L" (8-bit sources), "I" (16 and
    32-bit integer sources) or "F" (float sources), with transparent pixels
    on white paper, turned upright by its EXIF orientation.
    """
    from PIL import ExifTags, Image

    factor = max(1, max(image.size) // WORKING_SIDE)
    if image.format == "JPEG" and factor > 1:
        # decode at 1/2, 1/4 or 1/8 scale, no smaller than the working size
        image.draft(
            "L" if image.mode in ("L", "RGB") else image.mode,
            (-(-image.size[0] // factor), -(-image.size[1] // factor)),
        )
        factor = max(1, max(image.size) // WORKING_SIDE)
    image.load()
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)

    width, height = image.size
    deep = image.mode in _MODES_16 or image.mode in ("I", "F")
    target = ("I" if image.mode in _MODES_16 else image.mode) if deep else "L"
    transparent = not deep and (
        image.mode in _TRANSPARENT_MODES or "transparency" in image.info
    )
    # 16-bit grey's transparency is one grey level, left alone by Pillow's
    # conversions: those pixels are paper, white
    clear = image.info.get("transparency") if image.mode in _MODES_16 else None
    reduced = Image.new(target, (-(-width // factor), -(-height // factor)))
    step = factor * max(1, _STRIP_PIXELS // (width * factor))
    for top in range(0, height, step):
        strip = image if step >= height else image.crop((0, top, width, top + step))
        if transparent:  # transparent pixels are paper: flatten onto white
            rgba = strip.convert("RGBA")
            strip = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        strip = strip.convert(target)
        if isinstance(clear, int):
            levels = np.asarray(strip)
            levels = np.where(levels == clear, 65535, levels).astype(np.int32)
            strip = Image.fromarray(levels, "I")
        if factor > 1:
            strip = strip.reduce(factor)
        reduced.paste(strip, (0, top // factor))
        del strip
    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return reduced if method is None else reduced.transpose(method)


def _to_255(grey, mode):
    """Grey levels of a ``mode`` image on 0..255, by the real range of the mode.

    8-bit modes are 0..255 already and 16-bit ones 0..65535. 32-bit integer
    and float images have no fixed range: integers within 0..65535 are 16-bit
    levels (as Pillow opens some 16-bit files), floats within 0..1 are
    levels of 0..1, and anything else is stretched from its darkest to its
    lightest pixel.
    """
    if mode in _MODES_16:
        return grey * (255 / 65535)
    if mode not in ("I", "F"):
        return grey
    low, high = grey.min(), grey.max()
    if not np.isfinite(low) or not np.isfinite(high):
        raise ValueError("the image has pixels that are not finite numbers")
    if mode == "I" and low >= 0 and high <= 65535:
        return grey * (255 / 65535)
    if mode == "F" and low >= 0 and high <= 1:
        return grey * 255
    if high == low:
        return np.zeros_like(grey)
    return (grey - low) * (255 / (high - low))


def _center_of_mass_to_middle(field):
    from scipy import ndimage

    com = np.array(ndimage.center_of_mass(field))
    middle = np.array(field.shape) / 2  # MNIST's digits: (14, 14) in 28x28
    return ndimage.shift(field, np.round(middle - com), order=0, mode="constant")
