"""``skmnist train``: fit the pipeline on MNIST, report its test accuracy."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import sys
import time

from .. import _interrupt
from .._atomic import check_writable
from . import _console, _options


def add_parser(commands):
    """Add the ``train`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "train",
        help="train the network on MNIST and report its test accuracy",
        description="Train the MLP on the 60,000 MNIST training images, showing "
        "each epoch, then report its accuracy on the 10,000 test images.",
    )
    parser.add_argument(
        "--epochs",
        type=_options.positive_int,
        default=10,
        help="passes over the data (default: 10)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=_options.layer_sizes,
        default=(32, 64),
        metavar="W1,W2,...",
        help="widths of the hidden layers (default: 32,64)",
    )
    parser.add_argument(
        "--batch-size",
        type=_options.positive_int,
        default=100,
        help="samples per update (default: 100)",
    )
    parser.add_argument(
        "--dropout",
        type=_options.fraction,
        default=0.0,
        help="dropout rate after each hidden layer",
    )
    parser.add_argument(
        "--validation-split",
        type=_options.fraction,
        default=0.0,
        metavar="FRACTION",
        help="hold out this share of the training images to record validation "
        "curves (default: 0)",
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop when the accuracy on a held-out tenth stops improving",
    )
    parser.add_argument(
        "--random-state",
        type=_options.seed,
        default=None,
        help="seed for a reproducible model",
    )
    _options.add_output(
        parser, "write the trained model to PATH (a model file for skmnist.load)"
    )
    _options.add_data_home(parser)
    _options.add_json(parser)
    parser.set_defaults(run=run)


def run(args, out):
    """Train, print the test accuracy, save with --output; return the exit code."""
    if args.output:
        check_writable(args.output)  # before the training, not after it
    X_train, y_train = _console.mnist("train", args.data_home)
    X_test, y_test = _console.mnist("test", args.data_home)
    log = _console.log_stream(args, out)
    pipeline, fit_time = _fit(args, X_train, y_train, log)
    accuracy = pipeline.score(X_test, y_test)
    mlp = pipeline[-1]
    mlp.set_params(callbacks=None)  # they write to this console: not to be saved
    lines = [
        f"test accuracy: {accuracy:.4f} on {len(X_test)} images",
        f"fit time: {fit_time:.1f} s",
    ]
    failed = None
    if args.output:
        from ..persistence import save

        try:
            save(pipeline, args.output)
            lines.append(f"model saved to {_console.printable(args.output)}")
        except OSError as exc:  # the accuracy is still worth showing
            failed = exc
    result = {
        "test_accuracy": accuracy,
        "n_test": len(X_test),
        "fit_time": fit_time,
        "epochs_trained": mlp.n_iter_,
        "history": dict(mlp.history_),
        "model": None if failed else args.output,
    }
    _console.emit(args, out, result, lines)
    if failed:
        print(f"skmnist: error: {_console.printable(str(failed))}", file=sys.stderr)
        return 1
    return 0


def _fit(args, X, y, log):
    """The pipeline fitted with the progress shown on ``log``, and its fit time.

    Ctrl-C waits for the end of a batch or epoch, then the command exits
    with code 130 (:data:`skmnist._interrupt.EXIT`).
    """
    keras = _console.import_keras()
    from ..pipeline import make_mnist_pipeline

    pipeline = make_mnist_pipeline(
        hidden_layer_sizes=args.hidden_layer_sizes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dropout=args.dropout,
        validation_split=args.validation_split,
        early_stopping=args.early_stopping,
        random_state=args.random_state,
        callbacks=[_console.progress_callback(keras, args.epochs, log)],
    )
    print(
        f"training on {len(X)} images: hidden layers "
        f"{','.join(map(str, args.hidden_layer_sizes))}, batch size {args.batch_size}",
        file=log,
        flush=True,
    )
    start = time.perf_counter()
    with _interrupt.deferred_interrupt(_interrupt.EXIT):
        pipeline.fit(X, y)
    return pipeline, time.perf_counter() - start
