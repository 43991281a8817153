"""Options that several commands share, and the types that parse option values.

Each type raises :class:`argparse.ArgumentTypeError` with what it expected,
which argparse shows after the option's name, with exit code 2; never a
``ValueError``, which argparse would report as "invalid <function name>
value". A value the estimator would refuse is refused here, at once.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import re

# -- shared options ---------------------------------------------------------------


def add_data_home(parser):
    """``--data-home``: where MNIST is read from (and downloaded to)."""
    parser.add_argument(
        "--data-home", default=None, help="directory holding the MNIST files"
    )


def add_json(parser):
    """``--json``: results as JSON on stdout, progress on stderr."""
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the results as JSON on stdout (progress goes to stderr)",
    )


def add_model(parser, help="a model file"):
    """The positional ``MODEL``: a file written by ``skmnist.save``."""
    parser.add_argument("model", metavar="MODEL", help=help)


def add_output(parser, help):
    """``--output PATH``: where to save the command's model."""
    parser.add_argument("--output", metavar="PATH", default=None, help=help)


def add_max_samples(parser, verb):
    """``--max-samples N``: the first N training images only."""
    parser.add_argument(
        "--max-samples",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"{verb} on the first N training images only",
    )


def add_random_state(parser, default, help):
    """``--random-state``: the seed, an integer scikit-learn takes."""
    parser.add_argument("--random-state", type=seed, default=default, help=help)


# -- argument types ---------------------------------------------------------------


# The largest count an option takes: Keras and TensorFlow count in int32.
MAX_COUNT = 2**31 - 1
# The largest seed NumPy's legacy RandomState takes, as scikit-learn's.
MAX_SEED = 2**32 - 1


def _integer(text):
    """``text`` as an int if it is one in plain ASCII digits, else None.

    ``int()`` would take ``"1_000"`` and other digits than 0-9, and raise a
    ``ValueError`` on ``"²"``, which argparse would report under the type's
    function name; a long string of digits is never a count.
    """
    text = text.strip()
    if re.fullmatch(r"[+-]?[0-9]{1,20}", text) is None:
        return None
    return int(text)


def _bounded_int(text, low, high, expected):
    value = _integer(text)
    if value is None or not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text):
    """A count: an integer from 1 to :data:`MAX_COUNT`."""
    return _bounded_int(text, 1, MAX_COUNT, f"a positive integer up to {MAX_COUNT}")


def fold_count(text):
    """Cross-validation folds: an integer from 2 (scikit-learn's least)."""
    return _bounded_int(
        text, 2, MAX_COUNT, "an integer of at least 2 (cross-validation folds)"
    )


def seed(text):
    """A random seed: an integer from 0 to :data:`MAX_SEED`, as scikit-learn takes."""
    return _bounded_int(text, 0, MAX_SEED, f"an integer from 0 to {MAX_SEED}")


def n_jobs(text):
    """joblib's ``n_jobs``: a nonzero integer, -1 meaning every core."""
    value = _integer(text)
    if value is None or value == 0 or abs(value) > MAX_COUNT:
        raise argparse.ArgumentTypeError(
            f"expected a nonzero integer (-1: all cores), got {text!r}"
        )
    return value


def fraction(text):
    """A share in [0, 1)."""
    try:
        value = float(text)
    except (ValueError, OverflowError):
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def layer_sizes(text):
    """Parse ``32,64`` into ``(32, 64)``."""
    sizes = tuple(_integer(part) for part in text.split(",") if part.strip())
    if not sizes or any(size is None or not 1 <= size <= MAX_COUNT for size in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer widths such as 32,64; got {text!r}"
        )
    return sizes


def int_list(text):
    """Parse ``5,10`` into ``[5, 10]``."""
    values = [_integer(part) for part in text.split(",") if part.strip()]
    if not values or any(v is None or not 1 <= v <= MAX_COUNT for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 5,10; got {text!r}"
        )
    return values
