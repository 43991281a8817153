"""The latency of one image: the fitted pipeline against its ONNX export.

Fits the seed pipeline on the 60,000 MNIST training images
(``make_mnist_pipeline(random_state=0)``), exports it with ``to_onnx``, and
times, on the test images one at a time (the median of ``--calls`` calls,
after 10 untimed ones): ``pipe.predict``, ``pipe.predict_proba`` and
onnxruntime's ``session.run``; then the 10,000 test images in one call of
each (the median of 5). The two must agree on every label.

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench_onnx.py [--quick] [--record] [--json PATH]

``--quick`` fits 2 epochs on 6,000 images and makes 50 calls: a smoke run.
``--record`` writes ``benchmarks/results/bench_onnx.json`` on a quiet machine
only (see ``_record.py``).
"""

import argparse
import statistics
import sys
import time
import warnings

import _record


def _median_ms(call, X, calls):
    for i in range(10):
        call(X[i : i + 1])
    times = []
    for i in range(calls):
        one = X[i : i + 1]
        start = time.perf_counter()
        call(one)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _median_s(call, X, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(X)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument("--calls", type=int, default=1000)
    _record.add_arguments(parser)
    args = parser.parse_args(argv)
    n_train, epochs = (6000, 2) if args.quick else (60000, 10)
    if args.quick:
        args.calls = 50

    watch = _record.Run("bench_onnx", args.quick)
    import numpy as np
    import onnxruntime
    from sklearn.exceptions import ConvergenceWarning

    from skmnist import fetch_mnist, make_mnist_pipeline, to_onnx

    X, y = fetch_mnist("train", return_X_y=True)
    X_test, y_test = fetch_mnist("test", return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe = make_mnist_pipeline(random_state=0, epochs=epochs)
        pipe.fit(X[:n_train], y[:n_train])
    model = to_onnx(pipe).SerializeToString()
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])

    def run(x):
        return session.run(None, {"images": x})

    labels = run(X_test)[0]
    if not np.array_equal(labels, pipe.predict(X_test)):
        raise RuntimeError("the ONNX export and the pipeline disagree on a label")
    one = {
        "pipe.predict": _median_ms(pipe.predict, X_test, args.calls),
        "pipe.predict_proba": _median_ms(pipe.predict_proba, X_test, args.calls),
        "session.run": _median_ms(run, X_test, args.calls),
    }
    whole = {
        "pipe.predict": _median_s(pipe.predict, X_test),
        "session.run": _median_s(run, X_test),
    }
    figures = {
        "n_train": n_train,
        "epochs": epochs,
        "calls": args.calls,
        "accuracy": float(np.mean(labels == y_test)),
        "onnx_kib": len(model) / 1024,
        "one_image_ms": one,
        "test_set_s": whole,
        "one_image_ratio": one["pipe.predict"] / one["session.run"],
    }
    for call, ms in one.items():
        print(f"{call:<20} one image {ms:.3f} ms")
    for call, s in whole.items():
        print(f"{call:<20} {len(X_test)} images {s:.3f} s")
    return _record.write(watch.record(figures), args)


if __name__ == "__main__":
    sys.exit(main())
