"""skmnist side by side with what users would pick instead, on real MNIST.

Every contender trains the same network (Dense 32 relu, Dense 64 relu,
softmax; Adam at 0.001; batches of 100; shuffled every epoch) for the same
number of epochs on the same images, each fit in a fresh subprocess so that
backends do not share a process and peak memory is the fit's own:

- ``skmnist``: ``make_mnist_pipeline`` on TensorFlow;
- ``skmnist-jax``: the same on JAX (when JAX is installed);
- ``skmnist-mlp``: ``skmnist.MLPClassifier((32, 64), batch_size=100,
  max_iter=epochs)`` on the flattened images, the README's drop-in;
- ``keras``: a plain ``keras.Sequential`` and ``model.fit`` with defaults;
- ``scikeras``: stock scikeras ``KerasClassifier`` around the same model;
- ``sklearn``: ``MLPClassifier(hidden_layer_sizes=(32, 64), batch_size=100,
  max_iter=epochs)``;
- ``sklearn-1blas``: the same with its BLAS limited to one thread
  (threadpoolctl), as it runs in each of two parallel jobs.

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench.py [--quick] [--wide | --best] [--record] [--json PATH]

``--record`` writes ``benchmarks/results/bench.json`` (``bench_wide.json``
with ``--wide``, ``bench_best.json`` with ``--best``), which the README and
the docs show, on a quiet machine only (see ``_record.py``).

``--quick`` trains on 6,000 images for 2 epochs with one seed: a smoke run
that keeps this script working, not a measurement. ``--wide`` runs the
network past the seed instead (see ``WIDE``), on skmnist and on
``MLPClassifier`` of the same shape. ``--best`` runs the recipe of
``skmnist train --preset best`` (``PRESETS["best"]`` of
``skmnist/cli/train.py``, built as the command builds it) on TensorFlow and
JAX, the same recipe without its augmentation (so the time augmentation
adds per epoch shows), and ``MLPClassifier`` of the recipe's shape, batch
size, learning rate and epochs (no augmentation, no learning-rate halving:
scikit-learn has neither for Adam).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

import _record

CONTENDERS = (
    "skmnist",
    "skmnist-jax",
    "skmnist-mlp",
    "keras",
    "scikeras",
    "sklearn",
    "sklearn-1blas",
)
# --wide: past the seed, the winner of examples/plot_beyond_the_seed.py's
# search, up to 40 epochs with early stopping, and MLPClassifier of its shape.
WIDE_CONTENDERS = ("skmnist-wide", "skmnist-jax-wide", "sklearn-wide")
WIDE = {"hidden_layer_sizes": (512, 256), "early_stopping": True, "n_iter_no_change": 4}
# --best: skmnist train --preset best's recipe, with and without its
# augmentation, and MLPClassifier of its shape.
BEST_PRESET = "best"
BEST_CONTENDERS = (
    "skmnist-best",
    "skmnist-jax-best",
    "skmnist-best-noaug",
    "skmnist-jax-best-noaug",
    "sklearn-best",
)
BACKEND = {
    "skmnist-jax": "jax",
    "skmnist-jax-wide": "jax",
    "skmnist-jax-best": "jax",
    "skmnist-jax-best-noaug": "jax",
}


def _best_recipe():
    from skmnist.cli.train import PRESETS

    return PRESETS[BEST_PRESET]


def _load(n_train):
    from skmnist import fetch_mnist

    X, y = fetch_mnist("train", return_X_y=True)
    X_test, y_test = fetch_mnist("test", return_X_y=True)
    return X[:n_train], y[:n_train], X_test, y_test


def _keras_model():
    import keras

    model = keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _contender(name, seed, epochs):
    """Return ``(fit, predict, predict_proba_one, wants_flat)`` for a contender."""
    if name == "skmnist-mlp":
        import keras  # noqa: F401  (imported before the clock, as the others)

        from skmnist import MLPClassifier

        model = MLPClassifier(
            hidden_layer_sizes=(32, 64),
            batch_size=100,
            max_iter=epochs,
            random_state=seed,
        )
        return model.fit, model.predict, model.predict_proba, True
    if name.startswith("skmnist") and "-best" in name:
        from skmnist.cli.train import recipe_pipeline

        recipe = {**_best_recipe(), "epochs": epochs}
        if name.endswith("-noaug"):
            recipe["augmentation"] = None
        model = recipe_pipeline(recipe, random_state=seed)
        return model.fit, model.predict, model.predict_proba, False
    if name.startswith("skmnist"):
        from skmnist import make_mnist_pipeline

        wide = {**WIDE, "dropout": 0.3} if name.endswith("-wide") else {}
        model = make_mnist_pipeline(epochs=epochs, random_state=seed, **wide)
        return model.fit, model.predict, model.predict_proba, False
    if name == "keras":
        import keras

        keras.utils.set_random_seed(seed)
        model = _keras_model()

        def fit(X, y):
            model.fit(X, y, batch_size=100, epochs=epochs, verbose=0)

        def predict(X):
            return model.predict(X, verbose=0).argmax(axis=1)

        return fit, predict, lambda X: model.predict(X, verbose=0), True
    if name == "scikeras":
        from scikeras.wrappers import KerasClassifier

        model = KerasClassifier(
            model=_keras_model,
            loss="sparse_categorical_crossentropy",
            optimizer="adam",
            epochs=epochs,
            batch_size=100,
            verbose=0,
            random_state=seed,
        )
        return model.fit, model.predict, model.predict_proba, True
    if name.startswith("sklearn"):
        from sklearn.neural_network import MLPClassifier

        if name.endswith("-best"):
            recipe = _best_recipe()
            shape = {
                "hidden_layer_sizes": recipe["hidden_layer_sizes"],
                "batch_size": recipe["batch_size"],
                "learning_rate_init": recipe["learning_rate_init"],
            }
        elif name.endswith("-wide"):
            shape = {**WIDE, "batch_size": 100}
        else:
            shape = {"hidden_layer_sizes": (32, 64), "batch_size": 100}
        model = MLPClassifier(**shape, max_iter=epochs, random_state=seed)
        return model.fit, model.predict, model.predict_proba, True
    raise ValueError(f"unknown contender {name!r}")


def _worker(name, seed, n_train, epochs, latency_calls):
    """Run one fit and its predictions; print the figures as JSON."""
    warnings.filterwarnings("ignore")  # MLPClassifier's ConvergenceWarning at max_iter
    import numpy as np

    X, y, X_test, y_test = _load(n_train)
    fit, predict, predict_one, wants_flat = _contender(name, seed, epochs)
    if wants_flat:
        X = X.reshape(len(X), -1).astype(np.float32) / 255
        X_test = X_test.reshape(len(X_test), -1).astype(np.float32) / 255

    start = time.perf_counter()
    if name == "sklearn-1blas":
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            fit(X, y)
    else:
        fit(X, y)
    fit_time = time.perf_counter() - start
    epochs_run = _epochs_run(fit)

    start = time.perf_counter()
    accuracy = float(np.mean(predict(X_test) == y_test))
    predict_all = time.perf_counter() - start

    one = X_test[:1]
    for _ in range(10):
        predict_one(one)
    times = []
    for _ in range(latency_calls):
        start = time.perf_counter()
        predict_one(one)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(
        json.dumps(
            {
                "fit_s": fit_time,
                "accuracy": accuracy,
                "predict_10k_s": predict_all,
                "predict_one_ms": statistics.median(times) * 1e3,
                "peak_rss_mb": peak / 1e6,
                "epochs_run": epochs_run,
            }
        )
    )


def _epochs_run(fit):
    """The epochs the fitted estimator behind ``fit`` ran (early stopping)."""
    model = getattr(fit, "__self__", None)
    if model is None:  # plain Keras: model.fit runs every epoch it is given
        return None
    model = getattr(model, "steps", [[None, model]])[-1][1]
    n_iter = getattr(model, "n_iter_", None)
    if n_iter is None:
        history = getattr(model, "history_", None)
        n_iter = len(history["loss"]) if history else None
    return n_iter


def _run_worker(name, seed, args):
    env = dict(os.environ, KERAS_BACKEND=BACKEND.get(name, "tensorflow"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        name,
        "--seed",
        str(seed),
        "--n-train",
        str(args.n_train),
        "--epochs",
        str(args.epochs),
        "--latency-calls",
        str(args.latency_calls),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{name} (seed {seed}) failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _import_time(repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import skmnist"], check=True)
        times.append(time.perf_counter() - start)
    baseline = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        baseline.append(time.perf_counter() - start)
    return statistics.median(times), statistics.median(baseline)


def _has_jax():
    try:
        import jax  # noqa: F401
    except ImportError:
        return False
    return True


def _names(args, default):
    names = [n for n in (args.contenders or ",".join(default)).split(",") if n]
    if not _has_jax() and any("jax" in name for name in names):
        print("JAX is not installed: skipping skmnist on JAX", file=sys.stderr)
        names = [name for name in names if "jax" not in name]
    return names


def _main_best(args, seeds):
    """``--best``: the preset's recipe against MLPClassifier; write bench_best."""
    names = _names(args, BEST_CONTENDERS)
    run = _record.Run("bench_best", args.quick)
    results = {}
    for name in names:
        results[name] = _run_worker(name, seeds[0], args)
        print(f"{name}: done", file=sys.stderr, flush=True)
    reference = results.get("sklearn-best", {}).get("fit_s")
    for r in results.values():
        r["x_sklearn"] = r["fit_s"] / reference if reference else None
        r["s_per_epoch"] = r["fit_s"] / r["epochs_run"] if r["epochs_run"] else None

    print(
        f"MNIST: {args.n_train} training images, {args.epochs} epochs, seed "
        f"{seeds[0]}; recipe of skmnist train --preset {BEST_PRESET}"
    )
    header = (
        f"{'contender':<24} {'epochs':>6} {'fit s':>7} {'s/epoch':>7} "
        f"{'x sklearn':>9} {'accuracy':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        ratio = f"{r['x_sklearn']:.2f}" if reference else "-"
        per_epoch = f"{r['s_per_epoch']:.2f}" if r["s_per_epoch"] else "-"
        print(
            f"{name:<24} {r['epochs_run'] or '-':>6} {r['fit_s']:>7.1f} "
            f"{per_epoch:>7} {ratio:>9} {r['accuracy']:>8.4f}"
        )
    recipe = _best_recipe()
    record = run.record(
        {
            "n_train": args.n_train,
            "epochs": args.epochs,
            "seeds": seeds,
            "preset": BEST_PRESET,
            "recipe": {**recipe, "epochs": args.epochs},
            "contenders": results,
        }
    )
    return _record.write(record, args)


def _median(values):
    """The median of a figure over the seeds; None for a figure a contender lacks."""
    return None if None in values else statistics.median(values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    _record.add_arguments(parser)
    parser.add_argument("--contenders", default=None)
    parser.add_argument(
        "--wide",
        action="store_true",
        help="the wide network past the seed: (512, 256), dropout 0.3, early "
        "stopping, up to 40 epochs, one seed; against MLPClassifier of that shape",
    )
    parser.add_argument(
        "--best",
        action="store_true",
        help="the recipe of skmnist train --preset best, with and without its "
        "augmentation, on TensorFlow and JAX, one seed; against MLPClassifier "
        "of its shape",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--n-train", type=int, default=60000, help=argparse.SUPPRESS)
    parser.add_argument("--epochs", type=int, default=10, help=argparse.SUPPRESS)
    parser.add_argument(
        "--latency-calls", type=int, default=300, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.record and args.contenders:
        parser.error("--record records every contender: drop --contenders")
    if args.wide and args.best:
        parser.error("--wide and --best are two records: run them one at a time")
    if args.worker:
        _worker(args.worker, args.seed, args.n_train, args.epochs, args.latency_calls)
        return 0

    seeds = [0]
    if args.quick:
        args.n_train, args.epochs, args.latency_calls = 6000, 2, 30
    elif args.wide:
        args.epochs = 40
    elif args.best:
        args.epochs = _best_recipe()["epochs"]
    else:
        seeds = [0, 1, 2]
    if args.best:
        return _main_best(args, seeds)
    default = WIDE_CONTENDERS if args.wide else CONTENDERS
    names = _names(args, default)

    run = _record.Run("bench_wide" if args.wide else "bench", args.quick)
    results = {}
    for name in names:
        runs = [_run_worker(name, seed, args) for seed in seeds]
        results[name] = {key: _median([run[key] for run in runs]) for key in runs[0]}
        print(f"{name}: done", file=sys.stderr, flush=True)
    import_s, python_s = _import_time()

    reference = results.get("sklearn-wide" if args.wide else "sklearn", {}).get("fit_s")
    for r in results.values():
        r["x_sklearn"] = r["fit_s"] / reference if reference else None
    header = (
        f"{'contender':<16} {'fit s':>7} {'x sklearn':>9} {'accuracy':>8} "
        f"{'1 image ms':>10} {'10k s':>7} {'peak MB':>8}"
    )
    print(
        f"MNIST: {args.n_train} training images, {'up to ' if args.wide else ''}"
        f"{args.epochs} epochs, "
        f"median of seeds {seeds}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        ratio = f"{r['x_sklearn']:.2f}" if reference else "-"
        print(
            f"{name:<16} {r['fit_s']:>7.2f} {ratio:>9} {r['accuracy']:>8.4f} "
            f"{r['predict_one_ms']:>10.3f} {r['predict_10k_s']:>7.3f} "
            f"{r['peak_rss_mb']:>8.0f}"
        )
    print(
        f"import skmnist: {import_s:.3f} s in a fresh interpreter "
        f"(python -c pass: {python_s:.3f} s)"
    )
    if _has_jax():
        print(
            "JAX is installed, so TensorFlow imports it too: every TensorFlow "
            "contender's peak MB holds about 100 MB of JAX"
        )
    record = run.record(
        {
            "n_train": args.n_train,
            "epochs": args.epochs,
            "seeds": seeds,
            "contenders": results,
            "import_skmnist_s": import_s,
            "python_startup_s": python_s,
            "jax_installed": _has_jax(),
        }
    )
    return _record.write(record, args)


if __name__ == "__main__":
    sys.exit(main())
