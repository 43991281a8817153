"""``skmnist train``: fit the pipeline on MNIST, report its test accuracy."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import sys
import textwrap
import time

from .. import _interrupt
from .._atomic import check_writable
from . import _console, _options

# Parameters of KerasMLPClassifier a preset sets, with the halving period of
# the learning rate. "best": issue 28's measurement, (512, 256) behind this
# augmentation, Adam halved every 7 epochs: 0.9906 in 15 epochs, 59 s.
PRESETS = {
    "best": {
        "hidden_layer_sizes": (512, 256),
        "batch_size": 128,
        "epochs": 15,
        "learning_rate_init": 0.001,
        "halve_every": 7,
        "augmentation": {"rotation": 10.0, "shift": 2.0, "zoom": 0.1},
    },
}
# The options' values without a preset.
_DEFAULTS = {
    "hidden_layer_sizes": (32, 64),
    "batch_size": 100,
    "epochs": 10,
    "learning_rate_init": 0.001,
    "halve_every": None,
    "augmentation": None,
}


def _describe(preset):
    """A preset in words, for --help."""
    augmentation = ", ".join(f"{k} {v:g}" for k, v in preset["augmentation"].items())
    return (
        f"hidden layers {','.join(map(str, preset['hidden_layer_sizes']))}, "
        f"batch size {preset['batch_size']}, {preset['epochs']} epochs, Adam at "
        f"learning rate {preset['learning_rate_init']:g} halved every "
        f"{preset['halve_every']} epochs, augmentation ({augmentation})"
    )


def add_parser(commands):
    """Add the ``train`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "train",
        help="train the network on MNIST and report its test accuracy",
        description="Train the MLP on the 60,000 MNIST training images, showing "
        "each epoch, then report its accuracy on the 10,000 test images.",
        epilog="\n".join(
            textwrap.fill(f"--preset {name}: {_describe(p)}.", 78)
            for name, p in PRESETS.items()
        )
        + "\nOptions given beside --preset override its values.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_network_options(parser)
    _add_training_options(parser)
    _options.add_output(
        parser, "write the trained model to PATH (a model file for skmnist.load)"
    )
    _options.add_data_home(parser)
    _options.add_json(parser)
    parser.set_defaults(run=run)


def _add_network_options(parser):
    """The network's options: its size, its batches and its dropout."""
    parser.add_argument(
        "--epochs",
        type=_options.positive_int,
        default=None,
        help="passes over the data (default: 10)",
    )
    parser.add_argument(
        "--hidden-layer-sizes",
        type=_options.layer_sizes,
        default=None,
        metavar="W1,W2,...",
        help="widths of the hidden layers (default: 32,64)",
    )
    parser.add_argument(
        "--batch-size",
        type=_options.positive_int,
        default=None,
        help="samples per update (default: 100)",
    )
    parser.add_argument(
        "--dropout",
        type=_options.fraction,
        default=0.0,
        help="dropout rate after each hidden layer",
    )


def _add_training_options(parser):
    """How it trains: held-out rows, seed, augmentation, preset, data slice."""
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
    _options.add_random_state(parser, None, "seed for a reproducible model")
    parser.add_argument(
        "--augment",
        action="store_true",
        help="augment each training batch with random rotations, shifts and zooms "
        "(skmnist.ImageAugmentation's defaults)",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=None,
        help="start from a recipe (listed below)",
    )
    _options.add_max_samples(parser, "train")


def run(args, out):
    """Train, print the test accuracy, save with --output; return the exit code."""
    if args.output:
        check_writable(args.output)  # before the training, not after it
    X_train, y_train = _console.mnist("train", args.data_home)
    if args.max_samples:
        X_train, y_train = X_train[: args.max_samples], y_train[: args.max_samples]
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

    recipe = {**_DEFAULTS, **PRESETS.get(args.preset, {})}
    for name in ("hidden_layer_sizes", "epochs", "batch_size"):
        if getattr(args, name) is not None:
            recipe[name] = getattr(args, name)
    if args.augment:
        recipe["augmentation"] = {}  # ImageAugmentation's defaults
    pipeline = recipe_pipeline(
        recipe,
        callbacks=[_console.progress_callback(keras, recipe["epochs"], log)],
        dropout=args.dropout,
        validation_split=args.validation_split,
        early_stopping=args.early_stopping,
        random_state=args.random_state,
    )
    print(
        f"training on {len(X)} images: hidden layers "
        f"{','.join(map(str, recipe['hidden_layer_sizes']))}, batch size "
        f"{recipe['batch_size']}"
        + (", augmented" if recipe["augmentation"] is not None else ""),
        file=log,
        flush=True,
    )
    start = time.perf_counter()
    with _interrupt.deferred_interrupt(_interrupt.EXIT):
        pipeline.fit(X, y)
    return pipeline, time.perf_counter() - start


def recipe_pipeline(recipe, *, callbacks=(), **params):
    """The unfitted pipeline of ``recipe``, a value of :data:`PRESETS`.

    The recipe's ``augmentation`` (a dict of :class:`~skmnist.ImageAugmentation`
    parameters, or None) becomes that setting, and its ``halve_every`` a
    Keras ``LearningRateScheduler`` after ``callbacks``; ``params`` are more
    parameters of :class:`~skmnist.KerasMLPClassifier`. ``skmnist train`` and
    ``benchmarks/bench.py --best`` build their pipelines here, so that the
    benchmark measures what the command runs.
    """
    from ..augmentation import ImageAugmentation
    from ..pipeline import make_mnist_pipeline

    recipe = dict(recipe)
    halve_every = recipe.pop("halve_every", None)
    augmentation = recipe.pop("augmentation", None)
    callbacks = list(callbacks)
    if halve_every:
        keras = _console.import_keras()
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                _halving(recipe["learning_rate_init"], halve_every)
            )
        )
    return make_mnist_pipeline(
        **recipe,
        augmentation=None
        if augmentation is None
        else ImageAugmentation(**augmentation),
        callbacks=callbacks,
        **params,
    )


def _halving(rate, period):
    """A learning rate of ``rate`` halved every ``period`` epochs."""

    def schedule(epoch, current):
        return rate * 0.5 ** (epoch // period)

    return schedule
