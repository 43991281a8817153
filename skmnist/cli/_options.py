"""Options that several commands share, and the types that parse option values.

Each type raises :class:`argparse.ArgumentTypeError` with what it expected,
which argparse shows after the option's name, with exit code 2.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse

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


# -- argument types ---------------------------------------------------------------


def positive_int(text):
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def layer_sizes(text):
    """Parse ``32,64`` into ``(32, 64)``."""
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive layer widths such as 32,64; got {text!r}"
        )
    return sizes


def int_list(text):
    """Parse ``5,10`` into ``[5, 10]``."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 5,10; got {text!r}"
        )
    return [int(part) for part in parts]
