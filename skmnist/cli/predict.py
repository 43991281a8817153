"""``skmnist predict``: the digit in each image file, by a saved model."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import os
import stat
import sys

from . import _console, _options


def add_parser(commands):
    """Add the ``predict`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "predict",
        help="predict the digits in image files",
        description="Predict the digit in each image file (PNG, JPEG, anything "
        "Pillow reads; up to 50 megapixels, colour or grey, dark ink on light paper "
        "or light on dark). Each image is prepared the way MNIST was made: grey, "
        "ink light on dark, cropped to the ink, scaled into a 20x20 box and centred "
        "by its centre of mass in 28x28. An answer below 0.8 is marked 'low "
        "confidence'. An image that cannot be read is one error "
        "line; the others are still predicted, and the exit code is 1.",
    )
    _options.add_model(parser)
    parser.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    parser.add_argument(
        "--top-k",
        type=_options.positive_int,
        default=1,
        help="show the K most likely classes",
    )
    _options.add_json(parser)
    parser.set_defaults(run=run)


def run(args, out):
    """Print the likeliest classes of each image; return 1 if one was unreadable.

    Each image's line (or JSON object) is written as soon as it is known. An
    image that cannot be read, for whatever reason (missing, not a regular
    file, not an image, too large, truncated, blank), is one
    ``PATH: error: REASON`` line, and the images after it are still
    predicted.
    """
    from .._handwriting import is_low_confidence, read_digit

    model = _console.load_model(args.model)
    shape = _image_shape(model)
    model = _taking_images(model, shape)
    failed = False
    with _console.JsonArrayWriter(out) if args.json else _nothing() as array:
        for path in args.images:
            try:
                with _open_regular_file(path) as file:
                    image = read_digit(file, shape)
            except Exception as exc:  # one file's failure is one line; the rest go on
                if args.debug and not isinstance(exc, (OSError, ValueError)):
                    raise
                failed = True
                reason = _reason(exc)
                result = {"file": path, "error": reason}
                line = (
                    f"{_console.printable(path)}: error: {_console.printable(reason)}"
                )
            else:
                ranked = _top_classes(model, image, args.top_k)
                low = is_low_confidence(ranked[0]["probability"])
                result = {"file": path, "predictions": ranked, "low_confidence": low}
                line = (
                    f"{_console.printable(path)}: "
                    + ", ".join(
                        f"{_console.printable(r['class'])} ({r['probability']:.3f})"
                        for r in ranked
                    )
                    + ("; low confidence" if low else "")
                )
            if args.json:
                array.append(result)
            else:
                print(line, file=out, flush=True)
    if failed and not args.json:
        print("skmnist: error: some images could not be read", file=sys.stderr)
    return 1 if failed else 0


@contextlib.contextmanager
def _nothing():
    yield None


# What a path is, when it is not a regular file.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _check_regular(mode):
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "a special file")
        raise ValueError(f"not a regular file: {kind}")


def _open_regular_file(path):
    """``path`` opened for reading in binary, if it is a regular file.

    Checked before opening, as a FIFO would block ``open`` and a device never
    end; opened without blocking, and checked again on the open file, in
    case the path changed in between.
    """
    _check_regular(os.stat(path).st_mode)
    extra = os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
    file = open(path, "rb", opener=lambda name, flags: os.open(name, flags | extra))
    try:
        _check_regular(os.fstat(file.fileno()).st_mode)
        os.set_blocking(file.fileno(), True)
    except BaseException:
        file.close()
        raise
    return file


def _reason(exc):
    """Why an image could not be read, in one line."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, MemoryError):
        return "out of memory reading the image"
    message = " ".join(str(exc).split())
    if isinstance(exc, (OSError, ValueError)):
        return message or type(exc).__name__
    return f"cannot read the image ({type(exc).__name__}: {message})"


def _image_shape(model):
    """``(height, width)`` of the images the model was fitted on."""
    first = model[0] if hasattr(model, "steps") else model
    shape = getattr(first, "image_shape_", None)
    if shape is not None and len(shape) == 2:
        return tuple(shape)
    # fitted on flat rows: square images of as many pixels
    side = int(round(model.n_features_in_**0.5))
    if side * side != model.n_features_in_:
        raise _console.Failure(
            f"the model takes {model.n_features_in_} features, not square images"
        )
    return (side, side)


def _taking_images(model, shape):
    """The model, behind an :class:`~skmnist.ImageFlattener` if it takes rows."""
    if hasattr(model, "steps"):
        return model
    import numpy as np
    from sklearn.pipeline import Pipeline

    from ..pipeline import FLATTEN_STEP, MLP_STEP
    from ..preprocessing import ImageFlattener

    # read_digit's images are 8-bit, of the shape the model takes
    flattener = ImageFlattener(max_value=255).fit(np.zeros((1, *shape)))
    return Pipeline([(FLATTEN_STEP, flattener), (MLP_STEP, model)])


def _top_classes(model, image, k):
    """The ``k`` likeliest classes of one image, with their probabilities."""
    import numpy as np

    proba = model.predict_proba(image[np.newaxis])[0]
    top = np.argsort(proba)[::-1][:k]
    return [
        {"class": model.classes_[i].item(), "probability": float(proba[i])} for i in top
    ]
