"""One grid search four ways: one process, two local processes, a Dask cluster.

The search is the design card's: ``GridSearchCV`` over ``mlp__epochs`` and
``mlp__hidden_layer_sizes`` of ``make_mnist_pipeline``, 3-fold, on the first
20,000 MNIST training images. It runs with ``n_jobs=1``; with ``n_jobs=2``
on joblib's local process pool; and on a 2-worker ``dask.distributed``
``LocalCluster`` (one thread per worker) through
``joblib.parallel_config(backend="dask")``, as it is and through
``skmnist.fault_tolerant_client`` (the search's data sent as tasks Dask can
recompute, which the scheduler holds). Each way runs in a fresh
subprocess, and the table shows its wall time, best parameters and score.

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench_search.py [--quick] [--json PATH]

``--quick`` searches 2 small candidates on 2,000 images: a smoke run.
"""

import argparse
import json
import subprocess
import sys
import time

MODES = ("n_jobs=1", "n_jobs=2", "dask 2 workers", "dask fault-tol.")


def _worker(mode, quick):
    from sklearn.model_selection import GridSearchCV

    from skmnist import fault_tolerant_client, fetch_mnist, make_mnist_pipeline

    X, y = fetch_mnist("train", return_X_y=True)
    n = 2000 if quick else 20000
    X, y = X[:n], y[:n]
    grid = {
        "mlp__epochs": [1] if quick else [5, 10],
        "mlp__hidden_layer_sizes": [(16,), (32, 64)] if quick else [(32, 64), (128,)],
    }
    search = GridSearchCV(
        make_mnist_pipeline(random_state=0),
        grid,
        cv=3,
        n_jobs=1 if mode == "n_jobs=1" else 2 if mode == "n_jobs=2" else -1,
    )
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
        "mode": mode,
        "seconds": elapsed,
        "best_params": {k: str(v) for k, v in search.best_params_.items()},
        "best_score": search.best_score_,
        "n_fits": 3 * len(search.cv_results_["params"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.quick)))
        return 0
    rows = []
    for mode in MODES:
        command = [sys.executable, __file__, "--worker", mode]
        command += ["--quick"] if args.quick else []
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{mode}: done", file=sys.stderr, flush=True)
    print(f"{'search':<16}{'fits':>5}{'wall s':>9}  best score  best parameters")
    for row in rows:
        params = ", ".join(
            f"{k.split('__')[1]}={v}" for k, v in row["best_params"].items()
        )
        print(
            f"{row['mode']:<16}{row['n_fits']:>5}{row['seconds']:>9.1f}"
            f"  {row['best_score']:>10.4f}  {params}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
