"""The ``skmnist`` console script: the parser, and the run of a command.

Each command lives in its own module (:mod:`.train`, :mod:`.evaluate`,
:mod:`.predict`, :mod:`.search`, :mod:`.report`, :mod:`.export`), which adds
its subparser and options and runs it. Argument parsing imports nothing
heavy: Keras and TensorFlow are imported by the command that needs them, so
``skmnist --help`` answers at once.

Warnings are shown once each, in one line, without the source line that
raised them; ``-v`` shows them as Python does.

Exit codes: 0 on success, 2 for bad usage (argparse's message), 1 for a
failure at run time (one line on stderr; ``--debug`` shows the traceback),
130 when interrupted.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import contextlib
import sys
import warnings

from .. import __version__
from . import _console, evaluate, export, predict, report, search, train

__all__ = ["main"]

_COMMANDS = (train, evaluate, predict, search, report, export)


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skmnist",
        description="Train, evaluate and use the classic Keras MNIST network, the "
        "scikit-learn way.",
        epilog="MNIST is read from --data-home, else $SKMNIST_DATA, else "
        "scikit-learn's data home, and downloaded there when missing. "
        "Run 'skmnist COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"skmnist {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    verbose = {
        "action": "store_true",
        "help": "show warnings in full, with where they come from (default: "
        "each once, in one line)",
    }
    parser.add_argument("-v", "--verbose", **verbose)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in _COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():  # after the command too
        subparser.add_argument("-v", "--verbose", default=argparse.SUPPRESS, **verbose)
    return parser


@contextlib.contextmanager
def _warnings_in_one_line():
    """Within ``with``, each warning is shown once, in one line, without its source.

    ``skmnist: warning: TEXT (CATEGORY)`` on stderr, its text escaped; a
    repeat of the same category and text (a search's folds) is not shown.
    """
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if (category, text) in seen:
            return
        seen.add((category, text))
        print(
            f"skmnist: warning: {_console.printable(text)} ({category.__name__})",
            file=sys.stderr,
            flush=True,
        )

    previous = warnings.showwarning
    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = previous


def main(argv=None):
    """Run the console script.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    code : int
        The exit code: 0 on success, 1 on a failure (reported on stderr in
        one line, or as a traceback with ``--debug``), 130 when interrupted.
        Bad usage exits with code 2 from argparse.
    """
    args = _build_parser().parse_args(argv)
    try:
        with contextlib.nullcontext() if args.verbose else _warnings_in_one_line():
            return args.run(args, sys.stdout)
    except KeyboardInterrupt:
        # Model files are written atomically: an interrupted run leaves none.
        print("skmnist: interrupted, nothing saved", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, the traceback on request
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"skmnist: error: {_console.printable(message)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
