"""The first fit in a process: where its seconds go, each case in a fresh process.

The cases:

- the seed pipeline (``make_mnist_pipeline(random_state=0)``) on the first
  6,000 MNIST training images, 1 epoch (60 steps: a fit this short runs
  Keras' training step batch by batch, traced as a graph, not compiled by
  XLA), and 3 epochs (180 steps: the compiled epochs);
- ``skmnist.MLPClassifier(random_state=0)`` on scikit-learn's
  ``load_digits`` (1,797 rows of 64 features, scaled to [0, 1]), with its
  defaults (``adam``, up to 200 epochs, until the loss stops improving);
- the seed pipeline's 3-epoch fit again with ``SKMNIST_COMPILE_CACHE``
  pointing at an empty directory (cold) and then, in the next process, at
  the same directory (warm).

Each process times, one after the other: ``import skmnist``; ``import
keras`` (with TensorFlow, or JAX); the backend's start-up (its devices,
threads and, on TensorFlow, XLA's first compile); loading the data; then a
first fit, split into building the network (the Keras model, its optimizer
and metric variables, the compiled epochs' private copy), tracing (Python
run once to record the training step's graph), XLA's compile (the first
call of the compiled loop less what a later call of as many batches takes;
on JAX, ``lower().compile()``), the first epoch's own arithmetic, the later
epochs, and the rest (input checks, label encoding, scikeras' set-up,
predict-ready weights); then a second fit of the same network and data in
the same process, split the same way. The parent measures each whole
process too, Python's own start-up included.

The split wraps skmnist's private training functions from the outside
(``_epochs._program``, its program's compiled functions, ``_compat.symbolic_build``):
nothing of skmnist changes for it. Where one of them is gone (the code moved
on), its part is counted in "the rest" and shown as "-".

Usage::

    SKMNIST_DATA=../shared/mnist python benchmarks/bench_first_fit.py [--quick] [--record] [--json PATH]

``--quick`` runs the 1-epoch seed case on 1,000 images and the digits for
at most 12 epochs (still compiled epochs): a smoke run of both loops.
``--record`` writes ``benchmarks/results/bench_first_fit.json`` on a quiet
machine only (see ``_record.py``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import _record

# name: (what, epochs, uses the compile cache); the cache cases run in this
# order, cold then warm, on one directory.
CASES = {
    "seed-1": ("seed", 1, False),
    "seed-3": ("seed", 3, False),
    "digits": ("digits", None, False),
    "cache-cold": ("seed", 3, True),
    "cache-warm": ("seed", 3, True),
}
QUICK_CASES = ("seed-1", "digits")
PHASES = (
    "build",
    "trace",
    "compile",
    "first epoch",
    "later epochs",
    "rest",
)


def _n_train(quick):
    return 1000 if quick else 6000


# -- the worker: one case in this process ---------------------------------------


class _Clock:
    """Seconds of each phase of the fit under way; nested timings count once."""

    def __init__(self):
        self.depth = 0
        self.found = set()  # the phases whose functions the hooks found
        self.reset()

    def reset(self):
        self.seconds = {p: 0.0 for p in ("build", "trace", "compile")}
        self.epochs = []
        # (kind, seconds, batches) of the first call of each compiled function
        # (after its trace) and of the later ones: "loop", the compiled loop
        # of batches, or "step", a function of one batch
        self.first_calls = []
        self.calls = []

    def timed(self, phase, function):
        def wrapper(*args, **kwargs):
            if self.depth:
                return function(*args, **kwargs)
            self.depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth -= 1
                self.seconds[phase] += time.perf_counter() - start

        return wrapper

    def fit_phases(self, total):
        """The phases of a fit of ``total`` seconds, from what the hooks saw."""
        s = dict(self.seconds)
        for kind, seconds, batches in self.first_calls:
            # what the first call took that a later call of as many batches did not
            rate = min((t / b for k, t, b in self.calls if k == kind and b), default=0)
            s["compile"] += max(0.0, seconds - rate * batches)
        epochs = self.epochs
        first = epochs[0] if epochs else 0.0
        phases = {
            "build": s["build"] if "build" in self.found else None,
            "trace": s["trace"] if "trace" in self.found else None,
            "compile": s["compile"] if "trace" in self.found else None,
            "first epoch": max(0.0, first - s["trace"] - s["compile"])
            if epochs
            else None,
            "later epochs": sum(epochs[1:]) if epochs else None,
        }
        # traces and compiles happen within the epochs
        phases["rest"] = total - s["build"] - sum(epochs)
        phases["epochs"] = len(epochs)
        phases["total"] = total
        return phases


def _hook(clock):
    """Wrap skmnist's training functions so that ``clock`` sees each phase."""
    import keras

    from skmnist import _compat, _epochs, _estimator

    jax = keras.backend.backend() == "jax"
    for cls in vars(_estimator).values():
        if isinstance(cls, type) and "_build_network" in vars(cls):
            cls._build_network = clock.timed("build", cls._build_network)
            clock.found.add("build")
    if hasattr(_compat, "symbolic_build"):
        _compat.symbolic_build = clock.timed("build", _compat.symbolic_build)

    def epoch(function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                clock.epochs.append(time.perf_counter() - start)

        return wrapper

    for name in ("_compiled_epoch", "_step_by_step"):
        if hasattr(_epochs, name):
            setattr(_epochs, name, epoch(getattr(_epochs, name)))

    if not hasattr(_epochs, "_program"):
        return
    make_program = _epochs._program
    instrumented = set()
    clock.found.add("trace")

    def program(key, program_type, model, batch_size):
        made = clock.timed("build", make_program)(key, program_type, model, batch_size)
        if id(made) not in instrumented:
            instrumented.add(id(made))
            _instrument(clock, made, jax)
        return made

    _epochs._program = program


def _instrument(clock, program, jax):
    """Time the traces and compiles of ``program``'s compiled functions."""
    import keras

    def settled(out):
        if jax:
            import jax as jax_module

            jax_module.block_until_ready(out)
        return out

    def first_call(function, args, start):
        # Trace (and on JAX, compile) ``function`` for ``args``, counted from
        # ``start``, then run it: its output and the run's own seconds.
        clock.depth += 1
        try:
            if jax:
                lowered = function.lower(*args)
                traced = time.perf_counter()
                lowered.compile()
                clock.seconds["compile"] += time.perf_counter() - traced
            else:
                function.get_concrete_function(*args)
                traced = time.perf_counter()
            clock.seconds["trace"] += traced - start
            start = time.perf_counter()
            out = settled(function(*args))
        finally:
            clock.depth -= 1
        return out, time.perf_counter() - start

    def looped(function):
        # The compiled loop of CHUNK_BATCHES batches (its last argument says
        # how many run): trace, compile, run.
        state = {"first": True}

        def wrapper(*args):
            if clock.depth:
                return function(*args)
            batches = int(args[-1])
            start = time.perf_counter()
            if not state["first"]:
                out = settled(function(*args))
                clock.calls.append(("loop", time.perf_counter() - start, batches))
                return out
            state["first"] = False
            out, seconds = first_call(function, args, start)
            # what of the first call a later call of as many batches does not pay
            clock.first_calls.append(("loop", seconds, batches))
            return out

        return wrapper

    def traced_once(function):
        # A function of one batch (TensorFlow's graph, JAX's jit): its trace
        # (and on JAX, compile) per input shape, then its first call.
        shapes = set()

        def wrapper(*args):
            if clock.depth:
                return function(*args)
            start = time.perf_counter()
            shape = str(keras.tree.map_structure(lambda a: tuple(a.shape), args))
            if shape in shapes:
                out = settled(function(*args))
                clock.calls.append(("step", time.perf_counter() - start, 1))
                return out
            shapes.add(shape)
            out, seconds = first_call(function, args, start)
            clock.first_calls.append(("step", seconds, 1))
            return out

        return wrapper

    program.steps = looped(program.steps)
    if jax:
        program.last = traced_once(program.last)
        program.test = traced_once(program.test)
    elif hasattr(program, "_graph"):
        graph = program._graph
        program._graph = lambda method, arrays: traced_once(graph(method, arrays))


def _load(what, quick):
    if what == "seed":
        from skmnist import fetch_mnist

        X, y = fetch_mnist("train", return_X_y=True)
        n = _n_train(quick)
        return X[:n], y[:n]
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16, y


def _estimator(what, epochs, quick):
    if what == "seed":
        from skmnist import make_mnist_pipeline

        return make_mnist_pipeline(random_state=0, epochs=epochs)
    from skmnist import MLPClassifier

    return MLPClassifier(random_state=0, max_iter=12 if quick else 200)


def _worker(case, quick):
    what, epochs, _ = CASES[case]
    seconds = {}
    start = time.perf_counter()
    import skmnist

    seconds["import skmnist"] = time.perf_counter() - start
    start = time.perf_counter()
    import keras

    seconds["import Keras"] = time.perf_counter() - start
    start = time.perf_counter()
    from skmnist import _backend

    _backend.prepare_backend()
    seconds["backend start-up"] = time.perf_counter() - start
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()
    X, y = _load(what, quick)
    seconds["load the data"] = time.perf_counter() - start
    start = time.perf_counter()
    _estimator(what, epochs, quick)
    seconds["import the estimator"] = time.perf_counter() - start
    clock = _Clock()
    _hook(clock)
    fits = []
    for _ in range(2):
        clock.reset()
        estimator = _estimator(what, epochs, quick)
        start = time.perf_counter()
        estimator.fit(X, y)
        fits.append(clock.fit_phases(time.perf_counter() - start))
    del skmnist
    return {
        "backend": keras.backend.backend(),
        "n_samples": len(X),
        "n_features": int(X.reshape(len(X), -1).shape[1]),
        "start_up": seconds,
        "first_fit": fits[0],
        "second_fit": fits[1],
    }


# -- the parent ----------------------------------------------------------------


def _run(case, quick, cache):
    command = [sys.executable, __file__, "--worker", case]
    command += ["--quick"] if quick else []
    env = dict(os.environ)
    env.pop("SKMNIST_COMPILE_CACHE", None)
    if CASES[case][2]:
        env["SKMNIST_COMPILE_CACHE"] = cache
    start = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if out.returncode:
        raise RuntimeError(f"{case} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    print(f"{case}: done", file=sys.stderr, flush=True)
    return result


def _cell(value):
    return "-" if value is None else f"{value:.2f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    _record.add_arguments(parser)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.quick)))
        return 0

    watch = _record.Run("bench_first_fit", args.quick)
    with tempfile.TemporaryDirectory() as scratch:
        cache = os.path.join(scratch, "programs")
        cases = QUICK_CASES if args.quick else CASES
        results = {case: _run(case, args.quick, cache) for case in cases}

    width = 14
    print(f"{'seconds':<26}" + "".join(f"{c:>{width}}" for c in results))
    rows = [
        (k, lambda r, k=k: r["start_up"][k])
        for k in next(iter(results.values()))["start_up"]
    ]
    for fit in ("first_fit", "second_fit"):
        label = "first fit" if fit == "first_fit" else "second fit"
        rows.append((f"{label}", lambda r, f=fit: r[f]["total"]))
        rows += [(f"  {phase}", lambda r, f=fit, p=phase: r[f][p]) for phase in PHASES]
    rows.append(("whole process", lambda r: r["process_s"]))
    for label, get in rows:
        print(
            f"{label:<26}"
            + "".join(f"{_cell(get(r)):>{width}}" for r in results.values())
        )
    record = watch.record(
        {
            "n_train": _n_train(args.quick),
            "cases": results,
        }
    )
    return _record.write(record, args)


if __name__ == "__main__":
    sys.exit(main())
