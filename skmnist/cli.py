"""The ``skmnist`` console script.

Argument parsing imports nothing heavy: Keras and TensorFlow are imported by
the subcommand that needs them, so ``skmnist --help`` answers at once.

Exit codes: 0 on success, 2 for bad usage (argparse's message), 1 for a
failure at run time (one line on stderr; ``--debug`` shows the traceback),
130 when interrupted.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import os
import sys
import time

from . import __version__


def _positive_int(text):
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _layer_sizes(text):
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


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skmnist",
        description="Train and use the classic Keras MNIST network, the scikit-learn way.",
        epilog="MNIST is read from --data-home, else $SKMNIST_DATA, else "
        "scikit-learn's data home, and downloaded there when missing.",
    )
    parser.add_argument("--version", action="version", version=f"skmnist {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback on errors"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="train the network on MNIST and report its test accuracy",
        description="Train the MLP on the 60,000 MNIST training images, printing "
        "one line per epoch, then its accuracy on the 10,000 test images.",
    )
    train.add_argument(
        "--epochs",
        type=_positive_int,
        default=10,
        help="passes over the data (default: 10)",
    )
    train.add_argument(
        "--hidden-layer-sizes",
        type=_layer_sizes,
        default=(32, 64),
        metavar="W1,W2,...",
        help="widths of the hidden layers (default: 32,64)",
    )
    train.add_argument(
        "--batch-size",
        type=_positive_int,
        default=100,
        help="samples per update (default: 100)",
    )
    train.add_argument(
        "--random-state", type=int, default=None, help="seed for a reproducible model"
    )
    train.add_argument(
        "--data-home", default=None, help="directory holding the MNIST files"
    )
    train.add_argument(
        "--output",
        metavar="PATH",
        default=None,
        help="write the trained model to PATH (a model file for skmnist.load)",
    )
    train.set_defaults(handler=_train)
    return parser


def _import_keras():
    """Import Keras and start its backend with the C++ start-up logs hidden.

    TensorFlow writes them to file descriptor 2 before Python's logging is
    set up, so only a redirection of the descriptor hides them. The console
    script owns its process, so it may do this; the library never does.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras

            keras.ops.convert_to_tensor(0.0)  # the backend finds its devices now
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


def _train(args, out):
    from .datasets import fetch_mnist

    X_train, y_train = fetch_mnist("train", data_home=args.data_home, return_X_y=True)
    X_test, y_test = fetch_mnist("test", data_home=args.data_home, return_X_y=True)

    keras = _import_keras()

    from .pipeline import make_mnist_pipeline

    start = time.perf_counter()
    last = [start]

    def report_epoch(epoch, logs):
        now = time.perf_counter()
        print(
            f"epoch {epoch + 1}/{args.epochs}  loss {logs['loss']:.4f}  "
            f"accuracy {logs['accuracy']:.4f}  ({now - last[0]:.1f} s)",
            file=out,
            flush=True,
        )
        last[0] = now

    pipeline = make_mnist_pipeline(
        hidden_layer_sizes=args.hidden_layer_sizes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.random_state,
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=report_epoch)],
    )
    print(
        f"training on {len(X_train)} images: hidden layers "
        f"{','.join(map(str, args.hidden_layer_sizes))}, batch size {args.batch_size}",
        file=out,
        flush=True,
    )
    pipeline.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    accuracy = pipeline.score(X_test, y_test)
    print(f"test accuracy: {accuracy:.4f} on {len(X_test)} images", file=out)
    print(f"fit time: {fit_time:.1f} s", file=out)
    if args.output:
        from .persistence import save

        save(pipeline.set_params(mlp__callbacks=None), args.output)
        print(f"model saved to {args.output}", file=out)
    return 0


def main(argv=None):
    """Run the console script; return its exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args, sys.stdout)
    except KeyboardInterrupt:
        # Model files are written atomically: an interrupted run leaves none.
        print("skmnist: interrupted, nothing saved", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, the traceback on request
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"skmnist: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
