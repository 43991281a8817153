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
# A model's answer whose probability is below this is low confidence. With the
# seed model on MNIST's 10,000 test digits: 4.2% of the answers, wrong on 45%
# of those against 1.4% of the others (58% of all its errors flagged).
LOW_CONFIDENCE = 0.8
# Share of the field the digit's bounding box is scaled into (MNIST: 20 of 28).
_BOX = 20 / 28
# The background (paper, its shadows and lighting) is estimated on a copy
# reduced to about this many pixels on its long side, over a window of this
# share of the copy's short side: wider than any stroke, so that ink is a
# minority in every window; a median or percentile keeps a shadow's edge.
_BACKGROUND_SIDE = 64
_BACKGROUND_WINDOW = 0.4
# Paper darker than this (of 255) is taken as this dark when the ink's
# contrast is measured against it.
_DIM = 16
# Ink is what stands out from the background by more than this many times the
# noise (the spread of the rest), and by Otsu's threshold between ink and paper.
_NOISE_FACTOR = 4.0
# Pieces of ink smaller than this share of the image's pixels are specks.
_SPECK = 2e-5
# Pieces that touch the frame are dropped if a piece inside it has at least
# this share of the largest piece's area.
_INSIDE = 0.01
# Other pieces belong to the digit if at least this share of its largest
# piece's area, and within this share of its box's long side of that box.
_PIECE_AREA = 0.05
_PIECE_REACH = 0.3
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
    grey = _working_size(_read_grey(path))
    ink = _ink(grey)
    digit = _digit_mask(ink)
    return _mnist_field(ink, digit, shape)


def is_low_confidence(probability):
    """Whether an answer of this `probability` is flagged as low confidence.

    Below :data:`LOW_CONFIDENCE`: the image may not show one clear digit (or
    the model hesitates between two), and the answer deserves a look.
    """
    return bool(probability < LOW_CONFIDENCE)


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


def _working_size(grey):
    """``grey`` reduced to :data:`WORKING_SIDE` pixels on its long side, if larger.

    (A JPEG decoded at 1/2 to 1/8 scale may still be up to twice as large.)
    """
    if max(grey.shape) <= WORKING_SIDE:
        return grey
    from PIL import Image

    scale = WORKING_SIDE / max(grey.shape)
    size = tuple(max(1, round(s * scale)) for s in grey.shape[::-1])
    return _resized(grey, size, Image.Resampling.BOX)


def _ink(grey):
    """Ink (light, >= 0) on a black background, from grey levels of any page.

    The background is the median of a wide window around each pixel
    (computed small, then enlarged), so that uneven lighting, shadows and
    dark page edges are taken away; the ink is on the side of the largest
    departures from it, and measured as a share of the light the paper
    reflects there.
    """
    from PIL import Image
    from scipy import ndimage

    factor = max(grey.shape) / _BACKGROUND_SIDE
    small = grey
    if factor > 1:
        size = tuple(max(3, round(s / factor)) for s in grey.shape[::-1])
        small = _resized(grey, size, Image.Resampling.BOX)
    window = max(3, round(_BACKGROUND_WINDOW * min(small.shape)) | 1)

    paper = ndimage.median_filter(small, size=window, mode="reflect")
    paper = _paper_under_ink(small, paper, window)
    if small is not grey:
        paper = _resized(paper, grey.shape[::-1], Image.Resampling.BILINEAR)
    low, high = np.percentile(grey - paper, [0.1, 99.9])
    # Lighting multiplies: ink in a shadow departs less from its darker paper,
    # as a share of the light it could take away (or add) the same.
    if -low > high:  # dark ink
        return np.clip((paper - grey) / np.maximum(paper, _DIM), 0, None)
    return np.clip((grey - paper) / np.maximum(255 - paper, _DIM), 0, None)


def _paper_under_ink(small, paper, window):
    """``paper`` where ink is thick: the mean of the paper around it.

    Where ink fills half a window (a tight crop, a bold stroke), its median
    is ink; there the paper is the mean of the window's pixels that stand
    out from ``paper`` by less than Otsu's threshold, on either side.
    """
    from scipy import ndimage

    departure = np.abs(small - paper)
    ink = ndimage.binary_dilation(departure > _otsu(departure))
    clear = (~ink).astype(np.float64)
    weight = ndimage.uniform_filter(clear, window, mode="reflect")
    mean = ndimage.uniform_filter(small * clear, window, mode="reflect")
    around = np.divide(mean, weight, out=paper.copy(), where=weight > 0.05)
    return np.where(ink, around, paper)


def _resized(levels, size, method):
    """``levels`` (2-D floats) resized by Pillow to ``size`` (width, height)."""
    from PIL import Image

    image = Image.fromarray(levels.astype(np.float32), "F").resize(size, method)
    return np.asarray(image, dtype=np.float64)


def _digit_mask(ink):
    """The digit's pixels: the ink, less specks, frames and what lies apart.

    A piece of ink that touches the image's edge (a border, a page edge, a
    shadow's edge) is dropped when a piece of some size does not; the
    largest remaining piece is the digit, with the pieces of some size near
    it (a stroke broken in the scan).
    """
    from scipy import ndimage

    levels = ink[ink > 0]
    if levels.size == 0:
        raise ValueError("no digit found: the image is blank")
    noise = 1.4826 * np.median(np.abs(ink - np.median(ink)))
    threshold = max(_otsu(ink), _NOISE_FACTOR * noise)
    mask = ink > threshold
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        raise ValueError("no digit found: the image is blank")
    index = np.arange(1, count + 1)
    areas = ndimage.sum_labels(mask, labels, index)
    boxes = ndimage.find_objects(labels)
    height, width = ink.shape
    touching = np.array(
        [
            b[0].start == 0
            or b[1].start == 0
            or b[0].stop == height
            or b[1].stop == width
            for b in boxes
        ]
    )
    sized = areas >= max(2, _SPECK * ink.size)
    # a piece inside the frame stands for the digit if it is not a speck
    # beside the largest piece (a tight crop's digit may touch the frame)
    chosen = sized & ~touching & (areas >= _INSIDE * areas.max())
    if not chosen.any():
        chosen = sized if sized.any() else areas == areas.max()
    main = np.flatnonzero(chosen)[np.argmax(areas[chosen])]
    rows, cols = boxes[main]
    reach = _PIECE_REACH * max(rows.stop - rows.start, cols.stop - cols.start)
    keep = [main + 1]
    for i in np.flatnonzero(chosen):
        if i == main or areas[i] < _PIECE_AREA * areas[main]:
            continue
        r, c = boxes[i]
        if (
            r.start >= rows.start - reach
            and r.stop <= rows.stop + reach
            and c.start >= cols.start - reach
            and c.stop <= cols.stop + reach
        ):
            keep.append(i + 1)
    return np.isin(labels, keep)


def _otsu(values):
    """Otsu's threshold of ``values``: the level that best splits them in two."""
    if values.max() == values.min():  # nothing to split
        return values.max()
    counts, edges = np.histogram(values, bins=256)
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    total = weight[-1]
    mass = np.cumsum(counts * centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_low = mass / weight
        mean_high = (mass[-1] - mass) / (total - weight)
        between = weight * (total - weight) * (mean_low - mean_high) ** 2
    return centres[np.nanargmax(between[:-1])]


def _mnist_field(ink, digit, shape):
    """The digit's ink scaled into MNIST's box and centred in a ``shape`` field."""
    from PIL import Image
    from scipy import ndimage

    # the strokes' anti-aliased fringe belongs to them
    near = ndimage.binary_dilation(digit, iterations=2)
    levels = ink[digit]
    strong = np.percentile(levels, 90)
    faint = min(np.percentile(ink[~near], 90) if (~near).any() else 0, strong / 2)
    shades = np.where(near, np.clip((ink - faint) / (strong - faint), 0, 1), 0)
    rows = np.flatnonzero(digit.any(axis=1))
    cols = np.flatnonzero(digit.any(axis=0))
    crop = 255 * shades[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    height, width = shape
    box = max(1, round(_BOX * min(height, width)))
    scale = box / max(crop.shape)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    scaled = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(
            size, Image.Resampling.LANCZOS
        ),
        dtype=np.float64,
    ).clip(0, 255)

    field = np.zeros(shape)
    top, left = (height - scaled.shape[0]) // 2, (width - scaled.shape[1]) // 2
    field[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return _center_of_mass_to_middle(field).round().clip(0, 255).astype(np.uint8)


def _center_of_mass_to_middle(field):
    from scipy import ndimage

    com = np.array(ndimage.center_of_mass(field))
    middle = np.array(field.shape) / 2  # MNIST's digits: (14, 14) in 28x28
    return ndimage.shift(field, np.round(middle - com), order=0, mode="constant")
