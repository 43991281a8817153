"""``skmnist report``: figures and an HTML page about a saved model."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from .._atomic import make_directory
from .._search_results import read_results
from . import _console, _options


def add_parser(commands):
    """Add the ``report`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "report",
        help="write figures and an HTML page about a model",
        description="Write PNG figures and a self-contained index.html: the "
        "confusion matrix, per-class accuracy, the learning curves, misclassified "
        "test digits, sample predictions and, with --search-results, the search "
        "heatmap.",
    )
    _options.add_model(parser)
    parser.add_argument(
        "--output-dir", required=True, metavar="DIR", help="where to write"
    )
    parser.add_argument(
        "--search-results",
        metavar="PATH",
        default=None,
        help="the CSV or JSON from 'skmnist search --results'",
    )
    _options.add_data_home(parser)
    parser.set_defaults(run=run)


def run(args, out):
    """Write the report, print the paths written; return the exit code."""
    from .._report import write_report

    make_directory(args.output_dir)  # before the work, not after it
    # a bad results file is refused before the model and the data are loaded
    results = read_results(args.search_results) if args.search_results else None
    model = _console.load_model(args.model)
    X_test, y_test = _console.mnist("test", args.data_home)
    files = write_report(model, X_test, y_test, args.output_dir, search_results=results)
    for path in files:
        print(_console.printable(path), file=out)
    return 0
