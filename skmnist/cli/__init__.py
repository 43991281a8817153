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
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from . import __version__


class _Failure(Exception):
    """A run-time failure whose message is all the user needs."""


# -- argument types ---------------------------------------------------------------


def _positive_int(text):
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _scheduler(text):
    """``local:N`` or the address of a Dask scheduler."""
    if text.startswith("local:"):
        count = text[len("local:") :]
        if not (count.isdigit() and int(count) >= 1):
            raise argparse.ArgumentTypeError(
                f"expected local:N with N a positive number of workers, got {text!r}"
            )
    return text


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


def _int_list(text):
    """Parse ``5,10`` into ``[5, 10]``."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and int(part) >= 1 for part in parts):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 5,10; got {text!r}"
        )
    return [int(part) for part in parts]


# -- parser -----------------------------------------------------------------------


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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help, description):
        sub = commands.add_parser(name, help=help, description=description)
        return sub

    def data_home(sub):
        sub.add_argument(
            "--data-home", default=None, help="directory holding the MNIST files"
        )

    def json_flag(sub):
        sub.add_argument(
            "--json",
            action="store_true",
            help="print the results as JSON on stdout (progress goes to stderr)",
        )

    train = command(
        "train",
        "train the network on MNIST and report its test accuracy",
        "Train the MLP on the 60,000 MNIST training images, showing each epoch, "
        "then report its accuracy on the 10,000 test images.",
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
        "--dropout",
        type=_fraction,
        default=0.0,
        help="dropout rate after each hidden layer",
    )
    train.add_argument(
        "--validation-split",
        type=_fraction,
        default=0.0,
        metavar="FRACTION",
        help="hold out this share of the training images to record validation "
        "curves (default: 0)",
    )
    train.add_argument(
        "--early-stopping",
        action="store_true",
        help="stop when the accuracy on a held-out tenth stops improving",
    )
    train.add_argument(
        "--random-state", type=int, default=None, help="seed for a reproducible model"
    )
    train.add_argument(
        "--output",
        metavar="PATH",
        default=None,
        help="write the trained model to PATH (a model file for skmnist.load)",
    )
    data_home(train)
    json_flag(train)
    train.set_defaults(handler=_train)

    evaluate = command(
        "evaluate",
        "score a saved model on the MNIST test images",
        "Report a model's test accuracy, per-class precision, recall and F1, and "
        "its confusion matrix.",
    )
    evaluate.add_argument(
        "model", metavar="MODEL", help="a model file from 'train --output'"
    )
    data_home(evaluate)
    json_flag(evaluate)
    evaluate.set_defaults(handler=_evaluate)

    predict = command(
        "predict",
        "predict the digits in image files",
        "Predict the digit in each image file (PNG, JPEG, anything Pillow reads; any "
        "size, colour or grey, dark ink on light paper or light on dark). Each image "
        "is prepared the way MNIST was made: grey, ink light on dark, cropped to the "
        "ink, scaled into a 20x20 box and centred by its centre of mass in 28x28.",
    )
    predict.add_argument("model", metavar="MODEL", help="a model file")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="image files")
    predict.add_argument(
        "--top-k", type=_positive_int, default=1, help="show the K most likely classes"
    )
    json_flag(predict)
    predict.set_defaults(handler=_predict)

    search = command(
        "search",
        "grid-search epochs and layer widths with cross-validation",
        "Cross-validate every combination of --epochs and --hidden-layer-sizes on the "
        "MNIST training images, print the ranked results, and save the best model "
        "(refitted on all of them) and the results.",
    )
    search.add_argument(
        "--epochs",
        type=_int_list,
        default=[5, 10],
        metavar="E1,E2,...",
        help="epoch counts to try (default: 5,10)",
    )
    search.add_argument(
        "--hidden-layer-sizes",
        type=_layer_sizes,
        nargs="+",
        default=[(32, 64)],
        metavar="W1,W2,...",
        help="networks to try, each as comma-separated widths (default: 32,64)",
    )
    search.add_argument(
        "--cv",
        type=_positive_int,
        default=3,
        help="cross-validation folds (default: 3)",
    )
    search.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        help="fits run in parallel (default: 1 here, every worker with --scheduler; "
        "-1: all cores)",
    )
    search.add_argument(
        "--scheduler",
        type=_scheduler,
        default=None,
        metavar="ADDRESS",
        help="run the fits on a Dask cluster: the scheduler's address such as "
        "tcp://host:8786, or local:N to start N worker processes on this machine "
        "(needs skmnist[distributed])",
    )
    search.add_argument(
        "--max-samples",
        type=_positive_int,
        default=None,
        metavar="N",
        help="search on the first N training images only",
    )
    search.add_argument("--random-state", type=int, default=0, help="seed (default: 0)")
    search.add_argument(
        "--output", metavar="PATH", default=None, help="save the best model here"
    )
    search.add_argument(
        "--results",
        metavar="PATH",
        default=None,
        help="save every candidate's scores here, as CSV or JSON (by the extension)",
    )
    data_home(search)
    json_flag(search)
    search.set_defaults(handler=_search)

    report = command(
        "report",
        "write figures and an HTML page about a model",
        "Write PNG figures and a self-contained index.html: the confusion matrix, "
        "per-class accuracy, the learning curves, misclassified test digits, sample "
        "predictions and, with --search-results, the search heatmap.",
    )
    report.add_argument("model", metavar="MODEL", help="a model file")
    report.add_argument(
        "--output-dir", required=True, metavar="DIR", help="where to write"
    )
    report.add_argument(
        "--search-results",
        metavar="PATH",
        default=None,
        help="the CSV or JSON from 'skmnist search --results'",
    )
    data_home(report)
    report.set_defaults(handler=_report)
    return parser


# -- shared steps ------------------------------------------------------------------


def _import_keras():
    """Import Keras and start its backend (and XLA) with their C++ logs hidden.

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
            if keras.backend.backend() == "tensorflow":
                # XLA logs its own start-up on first use: training compiles
                # with it, so start it now, while the logs are hidden.
                import tensorflow as tf

                tf.function(lambda x: x + 1, jit_compile=True)(tf.constant(0.0))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return keras


def _load_model(path):
    from .persistence import read_model_file

    try:
        model_file = read_model_file(path)  # a bad file fails before Keras
        _import_keras()
        return model_file.build()
    except (OSError, ValueError) as exc:
        raise _Failure(str(exc)) from None


def _mnist(subset, data_home):
    from .datasets import fetch_mnist

    return fetch_mnist(subset, data_home=data_home, return_X_y=True)


def _emit(args, out, result, lines):
    """Print ``result`` as JSON with --json, else the human-readable ``lines``."""
    if args.json:
        json.dump(result, out, indent=2)
        out.write("\n")
    else:
        for line in lines:
            print(line, file=out)


def _progress_callback(keras, epochs, stream):
    """A Keras callback drawing a bar per epoch on a terminal, lines elsewhere."""
    tty = stream.isatty()

    class EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = self.shown = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.epoch_start = time.perf_counter()

        def _left(self, epochs_done):
            elapsed = time.perf_counter() - self.start
            return elapsed / epochs_done * (epochs - epochs_done) if epochs_done else 0

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            if not tty or now - self.shown < 0.1:
                return
            self.shown = now
            steps = self.params.get("steps") or 1
            done = min((batch + 1) / steps, 1.0)
            bar = "#" * int(20 * done)
            logs = logs or {}
            print(
                f"\repoch {self.epoch + 1}/{epochs} [{bar:<20}] "
                f"loss {logs.get('loss', 0):.4f}  accuracy {logs.get('accuracy', 0):.4f}  "
                f"{self._left(self.epoch + done):.0f} s left ",
                end="",
                file=stream,
                flush=True,
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            line = (
                f"epoch {epoch + 1}/{epochs}  loss {logs['loss']:.4f}  "
                f"accuracy {logs['accuracy']:.4f}"
            )
            if "val_accuracy" in logs:
                line += f"  val_accuracy {logs['val_accuracy']:.4f}"
            line += f"  ({time.perf_counter() - self.epoch_start:.1f} s"
            left = self._left(epoch + 1)
            line += f", {left:.0f} s left)" if epoch + 1 < epochs else ")"
            print(("\r\033[K" if tty else "") + line, file=stream, flush=True)

    return EpochProgress()


class _DeferredInterrupt:
    """Hold Ctrl-C during training until a callback can stop at a safe point.

    A ``KeyboardInterrupt`` raised while TensorFlow's C++ code is running
    (converting a value, say) can crash the process with a segmentation
    fault: measured, 6 runs in 95 of ``skmnist train`` interrupted after
    the first epoch. So within ``with`` the first Ctrl-C is only recorded,
    and :meth:`callback` raises it at the end of the current batch (Keras'
    ``fit``) or epoch (the compiled loop). A second Ctrl-C interrupts at
    once, as usual.
    """

    def __init__(self):
        self.pending = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._record)
        return self

    def __exit__(self, *exc_info):
        signal.signal(signal.SIGINT, self.previous)
        if self.pending and exc_info[0] is None:
            raise KeyboardInterrupt

    def _record(self, signum, frame):
        self.pending = True
        signal.signal(signal.SIGINT, self.previous)

    def callback(self, keras):
        """A Keras callback raising the recorded Ctrl-C."""
        interrupt = self  # a closure, not an attribute: Keras may copy callbacks

        class RaiseInterrupt(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if interrupt.pending:
                    raise KeyboardInterrupt

            on_epoch_end = on_train_batch_end

        return RaiseInterrupt()


# -- commands ---------------------------------------------------------------------


def _train(args, out):
    X_train, y_train = _mnist("train", args.data_home)
    X_test, y_test = _mnist("test", args.data_home)
    keras = _import_keras()
    from .pipeline import make_mnist_pipeline

    log = sys.stderr if args.json else out
    interrupt = _DeferredInterrupt()
    pipeline = make_mnist_pipeline(
        hidden_layer_sizes=args.hidden_layer_sizes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        dropout=args.dropout,
        validation_split=args.validation_split,
        early_stopping=args.early_stopping,
        random_state=args.random_state,
        callbacks=[
            _progress_callback(keras, args.epochs, log),
            interrupt.callback(keras),
        ],
    )
    print(
        f"training on {len(X_train)} images: hidden layers "
        f"{','.join(map(str, args.hidden_layer_sizes))}, batch size {args.batch_size}",
        file=log,
        flush=True,
    )
    start = time.perf_counter()
    with interrupt:
        pipeline.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    accuracy = pipeline.score(X_test, y_test)
    pipeline.set_params(mlp__callbacks=None)
    mlp = pipeline[-1]
    lines = [
        f"test accuracy: {accuracy:.4f} on {len(X_test)} images",
        f"fit time: {fit_time:.1f} s",
    ]
    if args.output:
        from .persistence import save

        save(pipeline, args.output)
        lines.append(f"model saved to {args.output}")
    result = {
        "test_accuracy": accuracy,
        "n_test": len(X_test),
        "fit_time": fit_time,
        "epochs_trained": mlp.n_iter_,
        "history": dict(mlp.history_),
        "model": args.output,
    }
    _emit(args, out, result, lines)
    return 0


def _evaluate(args, out):
    from sklearn.metrics import classification_report, confusion_matrix

    model = _load_model(args.model)
    X_test, y_test = _mnist("test", args.data_home)
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
    width = max(len(str(v)) for v in [*classes.tolist(), matrix.max()]) + 1
    header = "true\\pred " + "".join(f"{str(c):>{width}}" for c in classes)
    rows = [
        f"{str(c):>9} " + "".join(f"{v:>{width}}" for v in row)
        for c, row in zip(classes, matrix, strict=True)
    ]
    lines = [
        f"test accuracy: {accuracy:.4f} on {len(y_test)} images",
        "",
        classification_report(y_test, predicted, digits=4).rstrip(),
        "",
        "confusion matrix (rows: true class, columns: predicted class)",
        header,
        *rows,
    ]
    _emit(args, out, result, lines)
    return 0


def _image_shape(model):
    first = model[0] if hasattr(model, "steps") else model
    shape = getattr(first, "image_shape_", None)
    if shape is not None:
        return tuple(shape)
    side = int(round(model.n_features_in_**0.5))
    if side * side != model.n_features_in_:
        raise _Failure(
            f"the model takes {model.n_features_in_} features, not square images"
        )
    return (side, side)


def _predict(args, out):
    import numpy as np

    from ._handwriting import read_digit

    model = _load_model(args.model)
    shape = _image_shape(model)
    flat = not hasattr(model, "steps")
    results, lines, failed = [], [], False
    for path in args.images:
        try:
            image = read_digit(path, shape)
        except (OSError, ValueError) as exc:
            failed = True
            reason = "no such file" if isinstance(exc, FileNotFoundError) else str(exc)
            results.append({"file": path, "error": reason})
            lines.append(f"{path}: error: {reason}")
            continue
        X = image[np.newaxis]
        X = X.reshape(1, -1) / 255.0 if flat else X
        proba = model.predict_proba(X)[0]
        top = np.argsort(proba)[::-1][: args.top_k]
        ranked = [
            {"class": model.classes_[k].item(), "probability": float(proba[k])}
            for k in top
        ]
        results.append({"file": path, "predictions": ranked})
        lines.append(
            f"{path}: "
            + ", ".join(f"{r['class']} ({r['probability']:.3f})" for r in ranked)
        )
    _emit(args, out, results, lines)
    if failed and not args.json:
        print("skmnist: error: some images could not be read", file=sys.stderr)
    return 1 if failed else 0


def _search(args, out):
    X, y = _mnist("train", args.data_home)
    if args.max_samples:
        X, y = X[: args.max_samples], y[: args.max_samples]
    log = sys.stderr if args.json else out
    distributed = args.scheduler is not None
    with (
        _dask(args.scheduler, [X, y], log) if distributed else contextlib.nullcontext()
    ):
        return _run_search(args, out, log, X, y)


def _run_search(args, out, log, X, y):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    _import_keras()
    from .pipeline import make_mnist_pipeline

    grid = {
        "mlp__epochs": args.epochs,
        "mlp__hidden_layer_sizes": args.hidden_layer_sizes,
    }
    n_candidates = len(args.epochs) * len(args.hidden_layer_sizes)
    print(
        f"searching {n_candidates} candidates x {args.cv} folds on {len(X)} images",
        file=log,
        flush=True,
    )
    distributed = args.scheduler is not None
    search = GridSearchCV(
        make_mnist_pipeline(random_state=args.random_state),
        grid,
        cv=StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state),
        n_jobs=args.n_jobs or (-1 if distributed else 1),
        # On a cluster the fits print on the workers: progress comes from joblib.
        verbose=0 if args.json or distributed else 2,
    )
    start = time.perf_counter()
    search.fit(X, y)
    elapsed = time.perf_counter() - start
    rows = _search_rows(search.cv_results_)
    lines = [
        "",
        "rank  mean accuracy  std     fit s  epochs  hidden layers",
        *(
            f"{r['rank']:>4}  {r['mean_test_score']:>13.4f}  {r['std_test_score']:.4f}"
            f"  {r['mean_fit_time']:>6.1f}  {r['param_mlp__epochs']:>6}  "
            f"{','.join(map(str, r['param_mlp__hidden_layer_sizes']))}"
            for r in rows
        ),
        "",
        f"best: epochs {search.best_params_['mlp__epochs']}, hidden layers "
        f"{','.join(map(str, search.best_params_['mlp__hidden_layer_sizes']))} "
        f"(mean accuracy {search.best_score_:.4f}); search time {elapsed:.1f} s",
    ]
    if args.output:
        from .persistence import save

        save(search.best_estimator_, args.output)
        lines.append(f"best model saved to {args.output}")
    if args.results:
        _write_results(rows, args.results)
        lines.append(f"results saved to {args.results}")
    result = {
        "best_params": {
            "mlp__epochs": search.best_params_["mlp__epochs"],
            "mlp__hidden_layer_sizes": list(
                search.best_params_["mlp__hidden_layer_sizes"]
            ),
        },
        "best_score": search.best_score_,
        "search_time": elapsed,
        "results": rows,
    }
    _emit(args, out, result, lines)
    return 0


@contextlib.contextmanager
def _dask(address, data, log):
    """Run joblib's work (the search's fits) on a Dask cluster.

    ``data`` goes to the cluster once, up front, and like the rest of what
    the search sends there, as tasks that Dask recomputes if a worker dies
    with their results (see :func:`skmnist.distributed.fault_tolerant_client`).
    """
    try:
        import joblib
        from distributed import Client, LocalCluster
    except ImportError:
        raise _Failure(
            "--scheduler needs Dask's distributed package: "
            "pip install 'skmnist[distributed]'"
        ) from None
    from .distributed import fault_tolerant_client

    cluster = None
    if address.startswith("local:"):
        n_workers = int(address[len("local:") :])
        print(f"starting a local Dask cluster of {n_workers} workers", file=log)
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="5s")
        except (OSError, TimeoutError) as exc:
            raise _Failure(
                f"cannot reach the Dask scheduler at {address} ({exc}); start one "
                "with 'dask scheduler' and 'dask worker', or use --scheduler local:N"
            ) from None
    workers = len(client.scheduler_info().get("workers", {}))
    print(f"fitting on {workers} Dask workers ({address})", file=log, flush=True)
    try:
        with joblib.parallel_config(
            backend="dask",
            client=fault_tolerant_client(client),
            scatter=data,
            verbose=10,
        ):
            yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _search_rows(cv_results):
    """The candidates of a search, best first, as plain dicts."""
    keys = ("rank_test_score", "mean_test_score", "std_test_score", "mean_fit_time")
    rows = []
    for i, params in enumerate(cv_results["params"]):
        row = {"rank": int(cv_results[keys[0]][i])}
        row.update({key: float(cv_results[key][i]) for key in keys[1:]})
        row["param_mlp__epochs"] = int(params["mlp__epochs"])
        row["param_mlp__hidden_layer_sizes"] = list(params["mlp__hidden_layer_sizes"])
        rows.append(row)
    return sorted(rows, key=lambda r: (r["rank"], -r["mean_test_score"]))


def _write_results(rows, path):
    import csv

    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(rows, indent=2) + "\n")
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            sizes = ",".join(map(str, row["param_mlp__hidden_layer_sizes"]))
            writer.writerow({**row, "param_mlp__hidden_layer_sizes": sizes})


def _read_results(path):
    """Columns of a results file written by :func:`_write_results`."""
    import csv

    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(path.read_text())
        else:
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
        return {
            key: [row[key] for row in rows]
            for key in (
                "mean_test_score",
                "param_mlp__epochs",
                "param_mlp__hidden_layer_sizes",
            )
        }
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _Failure(f"cannot read search results from {path}: {exc}") from None


def _report(args, out):
    from ._report import write_report

    model = _load_model(args.model)
    X_test, y_test = _mnist("test", args.data_home)
    results = _read_results(args.search_results) if args.search_results else None
    files = write_report(model, X_test, y_test, args.output_dir, search_results=results)
    for path in files:
        print(path, file=out)
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
