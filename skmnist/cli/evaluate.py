"""``skmnist evaluate``: score a saved model on the MNIST test images."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from . import _console, _options


def add_parser(commands):
    """Add the ``evaluate`` command and its options to the ``commands`` subparsers."""
    parser = commands.add_parser(
        "evaluate",
        help="score a saved model on the MNIST test images",
        description="Report a model's test accuracy, per-class precision, recall "
        "and F1, and its confusion matrix.",
    )
    _options.add_model(parser, help="a model file from 'train --output'")
    _options.add_data_home(parser)
    _options.add_json(parser)
    parser.set_defaults(run=run)


def run(args, out):
    """Print the model's test scores and confusion matrix; return the exit code."""
    from sklearn.metrics import classification_report, confusion_matrix

    model = _console.load_model(args.model)
    X_test, y_test = _console.mnist("test", args.data_home)
    predicted = model.predict(X_test)
    classes = model.classes_
    accuracy = float((predicted == y_test).mean())
    per_class = classification_report(y_test, predicted, output_dict=True, digits=4)
    matrix = confusion_matrix(y_test, predicted, labels=classes)
    result = {
        "test_accuracy": accuracy,
        "n_test": len(y_test),
        "classes": classes.tolist(),
        "per_class": {str(c): per_class[str(c)] for c in classes},
        "confusion_matrix": matrix.tolist(),
    }
    names = [_console.printable(c) for c in classes.tolist()]
    lines = [
        f"test accuracy: {accuracy:.4f} on {len(y_test)} images",
        "",
        classification_report(
            y_test, predicted, labels=classes, target_names=names, digits=4
        ).rstrip(),
        "",
        "confusion matrix (rows: true class, columns: predicted class)",
        *_matrix_lines(names, matrix),
    ]
    _console.emit(args, out, result, lines)
    return 0


def _matrix_lines(names, matrix):
    """The confusion matrix as a table: a header of classes, a row per class."""
    width = max(len(str(v)) for v in [*names, matrix.max()]) + 1
    header = "true\\pred " + "".join(f"{c:>{width}}" for c in names)
    rows = [
        f"{c:>9} " + "".join(f"{v:>{width}}" for v in row)
        for c, row in zip(names, matrix, strict=True)
    ]
    return [header, *rows]
