"""The design card's grid search, skmnist against scikit-learn's MLPClassifier.

The search is the design card's: ``GridSearchCV`` over the epochs and the
widths of the seed pipeline, 3-fold, on the first 20,000 MNIST training
images. It runs over ``make_mnist_pipeline`` and over the same pipeline with
scikit-learn's ``MLPClassifier`` (same flatten-and-scale step, same
``batch_size=100``, ``max_iter`` in place of ``epochs``), on the same data and
folds, with ``n_jobs=1`` and ``n_jobs=2`` (joblib's local processes); skmnist
also runs it on a 2-worker ``dask.distributed`` ``LocalCluster`` (one thread
per worker) through ``joblib.parallel_config(backend="dask")``, as it is and
through ``skmnist.fault_tolerant_client``. Each search runs in a fresh
subprocess, which first imports what its contender needs: scikit-learn and
skmnist for both, Keras with its backend for skmnist. The table shows that
start-up, the search's wall time and its ratio to MLPClassifier's search with
the same ``n_jobs`` (worker processes start up inside the search), the ratio
counting both start-ups too, and the best parameters and score.

A second table breaks one skmnist fit (a fold's 13,333 images, 5 epochs) into
its fixed and per-epoch cost, in a fresh process after the backend's start-up:
the first fit of a network compiles its epoch program, and later fits of the
same network reuse it. Last, 24 seed fits on the same images run one after
another in one process, and the resident memory after the 3rd and the 24th
shows what a finished fit leaves behind.

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench_search.py [--quick] [--record] [--json PATH]

``--quick`` searches 2 small candidates on 2,000 images: a smoke run.
``--record`` writes ``benchmarks/results/bench_search.json``, which the docs
show, on a quiet machine only (see ``_record.py``).
"""

import argparse
import json
import subprocess
import sys
import time

import _record

SEARCHES = (
    ("skmnist", "n_jobs=1"),
    ("MLPClassifier", "n_jobs=1"),
    ("skmnist", "n_jobs=2"),
    ("MLPClassifier", "n_jobs=2"),
    ("skmnist", "dask 2 workers"),
    ("skmnist", "dask fault-tol."),
)


def _data(quick):
    from skmnist import fetch_mnist

    X, y = fetch_mnist("train", return_X_y=True)
    n = _n_train(quick)
    return X[:n], y[:n]


def _n_train(quick):
    return 2000 if quick else 20000


def _search(contender, mode, quick):
    start = time.perf_counter()
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import GridSearchCV
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline

    from skmnist import ImageFlattener, fault_tolerant_client, make_mnist_pipeline

    if contender == "skmnist":  # imports Keras and its backend
        pipe, epochs = make_mnist_pipeline(random_state=0), "mlp__epochs"
    else:
        mlp = MLPClassifier(batch_size=100, random_state=0)
        pipe, epochs = (
            Pipeline([("flatten", ImageFlattener()), ("mlp", mlp)]),
            "mlp__max_iter",
        )
    startup = time.perf_counter() - start
    X, y = _data(quick)
    grid = {
        epochs: [1] if quick else [5, 10],
        "mlp__hidden_layer_sizes": [(16,), (32, 64)] if quick else [(32, 64), (128,)],
    }
    n_jobs = 1 if mode == "n_jobs=1" else 2 if mode == "n_jobs=2" else -1
    search = GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs)
    warnings.simplefilter("ignore", ConvergenceWarning)
    if mode.startswith("dask"):
        import joblib
        from distributed import Client, LocalCluster

        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster) as client,
        ):
            if mode == "dask fault-tol.":
                client = fault_tolerant_client(client)
            start = time.perf_counter()
            with joblib.parallel_config(backend="dask", client=client):
                search.fit(X, y)
            elapsed = time.perf_counter() - start
    else:
        start = time.perf_counter()
        search.fit(X, y)
        elapsed = time.perf_counter() - start
    return {
        "contender": contender,
        "mode": mode,
        "seconds": elapsed,
        "startup_seconds": startup,
        "best_params": {k: str(v) for k, v in search.best_params_.items()},
        "best_score": search.best_score_,
        "n_fits": 3 * len(search.cv_results_["params"]) + 1,
    }


def _one_fit(quick):
    """Seconds of a first and a second 5-epoch fit of one network, and a 10-epoch one."""
    import warnings

    import keras
    from sklearn.exceptions import ConvergenceWarning

    from skmnist import make_mnist_pipeline

    warnings.simplefilter("ignore", ConvergenceWarning)
    keras.ops.convert_to_numpy(keras.ops.ones(1))  # the backend's start-up, untimed
    X, y = _data(quick)
    n = len(X) * 2 // 3
    X, y = X[:n], y[:n]
    times = {}
    for label, epochs in FIT_STEPS:
        start = time.perf_counter()
        make_mnist_pipeline(random_state=0, epochs=epochs).fit(X, y)
        times[label] = time.perf_counter() - start
    return {"n_samples": n, "seconds": times}


def _fits_in_one_process(quick):
    """Resident memory after the 3rd and the last of many seed fits in one process."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skmnist import make_mnist_pipeline

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = _data(quick)
    n_fits = 4 if quick else MEMORY_FITS
    resident = {}
    for i in range(n_fits):
        make_mnist_pipeline(random_state=i, epochs=1 if quick else 10).fit(X, y)
        with open("/proc/self/status") as f:
            mb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        resident[i + 1] = mb / 1024
    return {
        "n_samples": len(X),
        "resident_mb": {3: resident[3], n_fits: resident[n_fits]},
    }


# The measurement: 24 seed fits on 20,000 images, one after another.
MEMORY_FITS = 24
FIT_STEPS = (
    ("first fit, 5 epochs", 5),
    ("second fit, 5 epochs", 5),
    ("third fit, 10 epochs", 10),
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    _record.add_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        if args.worker == "one fit":
            result = _one_fit(args.quick)
        elif args.worker == "fits in one process":
            result = _fits_in_one_process(args.quick)
        else:
            result = _search(*args.worker.split(":"), args.quick)
        print(json.dumps(result))
        return 0

    def run(worker):
        command = [sys.executable, __file__, "--worker", worker]
        command += ["--quick"] if args.quick else []
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        print(f"{worker}: done", file=sys.stderr, flush=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    watch = _record.Run("bench_search", args.quick)
    rows = [run(f"{contender}:{mode}") for contender, mode in SEARCHES]
    reference = {r["mode"]: r for r in rows if r["contender"] != "skmnist"}
    print(
        f"{'search':<32}{'fits':>5}{'start-up s':>11}{'search s':>9}{'ratio':>7}"
        f"{'with start-up':>15}  best score  best parameters"
    )
    for row in rows:
        params = ", ".join(
            f"{k.split('__')[1]}={v}" for k, v in row["best_params"].items()
        )
        other = reference.get(row["mode"])  # no MLPClassifier search on Dask
        ratio = total = None
        if other is not None:
            ratio = row["seconds"] / other["seconds"]
            total = (row["seconds"] + row["startup_seconds"]) / (
                other["seconds"] + other["startup_seconds"]
            )
        row["ratio"], row["ratio_with_startup"] = ratio, total
        ratios = "-".rjust(7) + "-".rjust(15)
        if other is not None:
            ratios = f"{ratio:>6.2f}x{total:>14.2f}x"
        print(
            f"{row['contender'] + ', ' + row['mode']:<32}{row['n_fits']:>5}"
            f"{row['startup_seconds']:>11.1f}{row['seconds']:>9.1f}{ratios}"
            f"  {row['best_score']:>10.4f}  {params}"
        )
    fit = run("one fit")
    seconds = fit["seconds"]
    print(f"\none skmnist fit of {fit['n_samples']} images, in a fresh process:")
    for label, value in seconds.items():
        print(f"  {label:<22}{value:>7.2f} s")
    first, second, third = (seconds[label] for label, _ in FIT_STEPS)
    per_epoch = (third - second) / 5
    print(f"  {'per epoch':<22}{per_epoch:>7.2f} s")
    print(f"  {'fixed, first fit':<22}{first - 5 * per_epoch:>7.2f} s")
    print(f"  {'fixed, later fits':<22}{second - 5 * per_epoch:>7.2f} s")
    print(f"  {'second fit / first':<22}{second / first:>7.2f}")
    fit["per_epoch_seconds"] = per_epoch
    fit["fixed_first_seconds"] = first - 5 * per_epoch
    fit["fixed_later_seconds"] = second - 5 * per_epoch
    memory = run("fits in one process")
    (after_3, three), (after_last, last) = memory["resident_mb"].items()
    print(
        f"\nseed fits on {memory['n_samples']} images in one process: resident "
        f"{three:.0f} MB after {after_3}, {last:.0f} MB after {after_last} "
        f"({last - three:+.0f} MB)"
    )
    record = watch.record(
        {
            "n_train": _n_train(args.quick),
            "searches": rows,
            "one_fit": fit,
            "fits_in_one_process": memory,
        }
    )
    return _record.write(record, args)


if __name__ == "__main__":
    sys.exit(main())
