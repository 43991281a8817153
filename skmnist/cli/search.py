"""``skmnist search``: grid-search epochs and widths, here or on a Dask cluster."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import contextlib
import sys
import time

from .. import _interrupt
from .. import _search_results as results
from .._atomic import check_writable
from .._dask_cluster import LOCAL_PREFIX, joblib_on_dask
from . import _console, _options


def _scheduler(text):
    """``local:N`` or the address of a Dask scheduler."""
    if text.startswith(LOCAL_PREFIX):
        try:
            _options.positive_int(text.removeprefix(LOCAL_PREFIX))
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"expected local:N with N a positive number of workers, got {text!r}"
            ) from None
    return text


def add_parser(commands):
    """Add the ``search`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "search",
        help="grid-search epochs and layer widths with cross-validation",
        description="Cross-validate every combination of --epochs and "
        "--hidden-layer-sizes on the MNIST training images, print the ranked "
        "results, and save the best model (refitted on all of them) and the results.",
    )
    _add_grid_options(parser)
    _add_execution_options(parser)
    _options.add_max_samples(parser, "search")
    _options.add_random_state(parser, 0, "seed (default: 0)")
    _options.add_output(parser, "save the best model here")
    parser.add_argument(
        "--results",
        metavar="PATH",
        default=None,
        help="save every candidate's scores here, as CSV or JSON (by the extension)",
    )
    _options.add_data_home(parser)
    _options.add_json(parser)
    parser.set_defaults(run=run)


def _add_grid_options(parser):
    """The grid: the epoch counts and the networks to try."""
    parser.add_argument(
        "--epochs",
        type=_options.int_list,
        default=[5, 10],
        metavar="E1,E2,...",
        help="epoch counts to try (default: 5,10)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=_options.layer_sizes,
        nargs="+",
        default=[(32, 64)],
        metavar="W1,W2,...",
        help="networks to try, each as comma-separated widths (default: 32,64)",
    )


def _add_execution_options(parser):
    """How the search runs: folds, parallel fits, a Dask cluster."""
    parser.add_argument(
        "--cv",
        type=_options.fold_count,
        default=3,
        help="cross-validation folds (default: 3)",
    )
    parser.add_argument(
        "--n-jobs",
        type=_options.n_jobs,
        default=None,
        help="fits run in parallel (default: 1 here, every worker with --scheduler; "
        "-1: all cores)",
    )
    parser.add_argument(
        "--scheduler",
        type=_scheduler,
        default=None,
        metavar="ADDRESS",
        help="run the fits on a Dask cluster: the scheduler's address such as "
        "tcp://host:8786, or local:N to start N worker processes on this machine "
        "(needs skmnist[distributed])",
    )


def run(args, out):
    """Search, print the ranked candidates, save the best; return the exit code."""
    check_writable(*filter(None, (args.output, args.results)))  # before the search
    X, y = _console.mnist("train", args.data_home)
    if args.max_samples:
        X, y = X[: args.max_samples], y[: args.max_samples]
    log = _console.log_stream(args, out)
    search, elapsed = _search(args, X, y, log)
    rows = results.search_rows(search.cv_results_)
    best = search.best_params_
    lines = [
        *_table_lines(rows),
        "",
        f"best: epochs {best[results.EPOCHS]}, hidden layers "
        f"{','.join(map(str, best[results.HIDDEN_LAYER_SIZES]))} "
        f"(mean accuracy {search.best_score_:.4f}); search time {elapsed:.1f} s",
    ]
    failures = []  # one output failing does not cost the others
    if args.output:
        from ..persistence import save

        try:
            save(search.best_estimator_, args.output)
            lines.append(f"best model saved to {_console.printable(args.output)}")
        except OSError as exc:
            failures.append(exc)
    if args.results:
        try:
            results.write_results(rows, args.results)
            lines.append(f"results saved to {_console.printable(args.results)}")
        except OSError as exc:
            failures.append(exc)
    result = {
        "best_params": {
            results.EPOCHS: best[results.EPOCHS],
            results.HIDDEN_LAYER_SIZES: list(best[results.HIDDEN_LAYER_SIZES]),
        },
        "best_score": search.best_score_,
        "search_time": elapsed,
        "results": rows,
    }
    _console.emit(args, out, result, lines)
    for exc in failures:
        print(f"skmnist: error: {_console.printable(str(exc))}", file=sys.stderr)
    return 1 if failures else 0


def _search(args, X, y, log):
    """The fitted ``GridSearchCV`` and its time, on Dask with --scheduler."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    distributed = args.scheduler is not None
    with (
        joblib_on_dask(args.scheduler, [X, y], log)
        if distributed
        else contextlib.nullcontext()
    ):
        _console.import_keras()
        from ..pipeline import make_mnist_pipeline

        n_candidates = len(args.epochs) * len(args.hidden_layer_sizes)
        print(
            f"searching {n_candidates} candidates x {args.cv} folds on {len(X)} images",
            file=log,
            flush=True,
        )
        search = GridSearchCV(
            make_mnist_pipeline(random_state=args.random_state),
            {
                results.EPOCHS: args.epochs,
                results.HIDDEN_LAYER_SIZES: args.hidden_layer_sizes,
            },
            cv=StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state),
            n_jobs=args.n_jobs or (-1 if distributed else 1),
            # On a cluster the fits print on the workers: progress comes from joblib.
            verbose=0 if args.json or distributed else 2,
        )
        start = time.perf_counter()
        # Ctrl-C: the fit running here stops at its next batch, and the command
        # exits with code 130 (a second Ctrl-C interrupts at once).
        with _interrupt.deferred_interrupt(_interrupt.EXIT):
            search.fit(X, y)
        return search, time.perf_counter() - start


def _table_lines(rows):
    """The ranked candidates as a table, after a blank line."""
    epochs, sizes = results.EPOCHS_COLUMN, results.HIDDEN_LAYER_SIZES_COLUMN
    return [
        "",
        "rank  mean accuracy  std     fit s  epochs  hidden layers",
        *(
            f"{r['rank']:>4}  {r['mean_test_score']:>13.4f}  {r['std_test_score']:.4f}"
            f"  {r['mean_fit_time']:>6.1f}  {r[epochs]:>6}  "
            f"{','.join(map(str, r[sizes]))}"
            for r in rows
        ),
    ]
