"""Small data: skmnist.MLPClassifier against scikit-learn's, in one warm process.

The data are the three toy sets of scikit-learn's classifier comparison
example, 100 points each: ``make_moons(noise=0.3, random_state=0)``,
``make_circles(noise=0.2, factor=0.5, random_state=1)`` and the linearly
separable ``make_classification(n_features=2, n_redundant=0,
n_informative=2, random_state=1, n_clusters_per_class=1)`` with the uniform
noise the example adds; each split by ``train_test_split(test_size=0.4,
random_state=42)``, so 60 rows train, and standardized (``StandardScaler`` fitted on the training rows, as the
example's pipeline does).

Both classifiers fit, one after the other, with ``random_state=42``:

- ``adam``: ``alpha=1, max_iter=1000``, hidden layers ``(100,)`` and
  ``(10, 10)`` on each set (6 fits);
- ``lbfgs``: ``(10, 10)``, ``alpha`` in ``np.logspace(-1, 1, 5)``,
  ``max_iter=1000`` on each set (15 fits).

Everything runs in one process. Before the clock, each classifier fits each
network shape and solver once on the first set (the warm-up: skmnist's first
fit of a network imports Keras' backend and compiles its program); those
seconds are reported apart. Then every fit is timed ``--repeats`` times
(the median counts), and each group's summed time is compared: skmnist's
over scikit-learn's. The test scores are shown side by side. A solver that
skmnist refuses (it raises) is reported as refused, with its message.

Usage::

    python benchmarks/bench_small.py [--quick] [--record] [--json PATH]

``--quick`` fits each group on one set, with ``max_iter=20`` and no repeats:
a smoke run. ``--record`` writes ``benchmarks/results/bench_small.json`` on a
quiet machine only (see ``_record.py``).
"""

import argparse
import statistics
import sys
import time
import warnings

import _record

WIDTHS = ((100,), (10, 10))
LBFGS_WIDTH = (10, 10)


def datasets():
    """``{name: (X_train, X_test, y_train, y_test)}``, as the gallery builds them."""
    import numpy as np
    from sklearn.datasets import make_circles, make_classification, make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        n_features=2,
        n_redundant=0,
        n_informative=2,
        random_state=1,
        n_clusters_per_class=1,
    )
    X += 2 * np.random.RandomState(2).uniform(size=X.shape)
    sets = {
        "moons": make_moons(noise=0.3, random_state=0),
        "circles": make_circles(noise=0.2, factor=0.5, random_state=1),
        "linearly separable": (X, y),
    }
    split = {}
    for name, (X, y) in sets.items():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.4, random_state=42
        )
        scaler = StandardScaler().fit(X_train)  # as the example's pipeline does
        split[name] = (
            scaler.transform(X_train),
            scaler.transform(X_test),
            y_train,
            y_test,
        )
    return split


def _classes():
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from skmnist import MLPClassifier

    return {"skmnist": MLPClassifier, "sklearn": SklearnMLP}


def _fit(cls, params, data):
    """``(seconds, test score, n_iter_)``, or ``("refused", message)``."""
    from sklearn.exceptions import ConvergenceWarning

    X_train, X_test, y_train, y_test = data
    model = cls(**params, random_state=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        try:
            model.fit(X_train, y_train)
        except (ValueError, NotImplementedError) as error:
            return "refused", str(error)
        seconds = time.perf_counter() - start
    return seconds, float(model.score(X_test, y_test)), int(model.n_iter_)


def groups(max_iter):
    """``{group: [params, ...]}``: the adam widths and the lbfgs alphas."""
    import numpy as np

    return {
        "adam": [
            {
                "solver": "adam",
                "alpha": 1.0,
                "max_iter": max_iter,
                "hidden_layer_sizes": w,
            }
            for w in WIDTHS
        ],
        "lbfgs": [
            {
                "solver": "lbfgs",
                "alpha": float(alpha),
                "max_iter": max_iter,
                "hidden_layer_sizes": LBFGS_WIDTH,
            }
            for alpha in np.logspace(-1, 1, 5)
        ],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--repeats", type=int, default=3)
    _record.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    max_iter = 20 if args.quick else 1000

    watch = _record.Run("bench_small", args.quick)
    start = time.perf_counter()
    classes = _classes()
    import keras

    keras.ops.convert_to_numpy(keras.ops.ones(1))  # the backend's start-up
    backend_startup = time.perf_counter() - start
    sets = datasets()
    if args.quick:
        sets = dict(list(sets.items())[:1])
    first = next(iter(sets.values()))
    plan = groups(max_iter)

    # The warm-up: each shape and solver once, on the first set.
    warm_up = {}
    for group, runs in plan.items():
        shapes = {tuple(p["hidden_layer_sizes"]): p for p in runs}
        for shape, params in shapes.items():
            key = f"{group} {shape}"
            warm_up[key] = {}
            for name, cls in classes.items():
                result = _fit(cls, params, first)
                warm_up[key][name] = result[0] if result[0] != "refused" else None

    fits = []
    for group, runs in plan.items():
        for params in runs:
            for set_name, data in sets.items():
                row = {"group": group, "set": set_name, "params": dict(params)}
                row["params"]["hidden_layer_sizes"] = list(params["hidden_layer_sizes"])
                for name, cls in classes.items():
                    results = [_fit(cls, params, data) for _ in range(args.repeats)]
                    if results[0][0] == "refused":
                        row[name] = {"refused": results[0][1]}
                        continue
                    row[name] = {
                        "seconds": statistics.median(r[0] for r in results),
                        "score": results[0][1],
                        "n_iter": results[0][2],
                    }
                fits.append(row)
                print(
                    f"{group} {params['hidden_layer_sizes']} alpha={params['alpha']:g} "
                    f"{set_name}: done",
                    file=sys.stderr,
                    flush=True,
                )

    summary = {}
    for group in plan:
        rows = [r for r in fits if r["group"] == group]
        entry = {"fits": len(rows)}
        refused = [r["skmnist"]["refused"] for r in rows if "refused" in r["skmnist"]]
        if refused:
            entry["skmnist_refused"] = refused[0]
        else:
            entry["skmnist_seconds"] = sum(r["skmnist"]["seconds"] for r in rows)
            entry["max_score_gap"] = max(
                abs(r["skmnist"]["score"] - r["sklearn"]["score"]) for r in rows
            )
        entry["sklearn_seconds"] = sum(r["sklearn"]["seconds"] for r in rows)
        if not refused:
            entry["ratio"] = entry["skmnist_seconds"] / entry["sklearn_seconds"]
        summary[group] = entry

    print(f"{'fit':<34}{'skmnist s':>10}{'sklearn s':>10}{'skmnist':>9}{'sklearn':>9}")
    for r in fits:
        label = f"{r['group']} {tuple(r['params']['hidden_layer_sizes'])} "
        label += f"a={r['params']['alpha']:g} {r['set']}"
        theirs = r["sklearn"]
        if "refused" in r["skmnist"]:
            print(
                f"{label:<34}{'refused':>10}{theirs['seconds']:>10.3f}"
                f"{'-':>9}{theirs['score']:>9.3f}"
            )
        else:
            ours = r["skmnist"]
            print(
                f"{label:<34}{ours['seconds']:>10.3f}{theirs['seconds']:>10.3f}"
                f"{ours['score']:>9.3f}{theirs['score']:>9.3f}"
            )
    for group, entry in summary.items():
        if "skmnist_refused" in entry:
            print(
                f"{group}: skmnist refused ({entry['skmnist_refused']}); "
                f"sklearn {entry['sklearn_seconds']:.2f} s"
            )
        else:
            print(
                f"{group}: {entry['fits']} fits, skmnist {entry['skmnist_seconds']:.2f} s, "
                f"sklearn {entry['sklearn_seconds']:.2f} s ({entry['ratio']:.2f}x); "
                f"largest score gap {entry['max_score_gap']:.3f}"
            )
    print(
        f"Keras' backend start-up {backend_startup:.2f} s; warm-up fits (s): "
        + "; ".join(
            f"{k}: "
            + ", ".join(
                f"{n} {'refused' if v is None else f'{v:.2f}'}" for n, v in w.items()
            )
            for k, w in warm_up.items()
        )
    )

    record = watch.record(
        {
            "sets": list(sets),
            "n_train": len(first[0]),
            "max_iter": max_iter,
            "repeats": args.repeats,
            "backend_startup_s": backend_startup,
            "warm_up_s": warm_up,
            "summary": summary,
            "fits": fits,
        }
    )
    return _record.write(record, args)


if __name__ == "__main__":
    sys.exit(main())
