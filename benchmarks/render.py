"""The README's and the docs' figures, rendered from the recorded benchmark runs.

Every measured figure a user reads comes from a record in
``benchmarks/results/`` (written by a benchmark's ``--record``). This module
turns each record into the tables the pages show, each followed by where it
came from: the command, the date, the machine, the load and the versions.
A table whose record does not exist yet says so, with the command that
records it.

The docs build renders the tables itself (``docs/_ext/recorded_figures.py``,
the ``recorded-figures`` directive). The README carries them between
``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``; this script
rewrites those blocks::

    python benchmarks/render.py            # rewrite README.md's blocks
    python benchmarks/render.py --check    # exit 1 if a block differs

``SKMNIST_RESULTS`` (or ``--results DIR``) reads the records from another
directory, such as the scratch output of ``--quick --json`` runs.
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"
PLACEHOLDER = "Not yet recorded"

# What records each file.
COMMANDS = {
    "bench": "python benchmarks/bench.py --record",
    "bench_wide": "python benchmarks/bench.py --wide --record",
    "bench_best": "python benchmarks/bench.py --best --record",
    "bench_search": "python benchmarks/bench_search.py --record",
    "bench_small": "python benchmarks/bench_small.py --record",
    "bench_onnx": "python benchmarks/bench_onnx.py --record",
    "bench_cli": "python benchmarks/bench_cli.py --record",
    "bench_first_fit": "python benchmarks/bench_first_fit.py --record",
}
BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
PACKAGE_NAMES = {
    "numpy": "NumPy",
    "scipy": "SciPy",
    "scikit-learn": "scikit-learn",
    "keras": "Keras",
    "tensorflow": "TensorFlow",
    "jax": "JAX",
    "scikeras": "scikeras",
    "onnxruntime": "onnxruntime",
}


def results_dir():
    return Path(os.environ.get("SKMNIST_RESULTS") or RESULTS)


def load(name, results=None):
    """The record ``NAME.json``, or None when it has not been recorded."""
    path = Path(results or results_dir()) / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


# -- the tables ---------------------------------------------------------------
# Each returns (header, rows, notes): cells and notes in a small markup that
# both formats share, `code` and **bold**.


def _s(x, digits=2):
    return f"{x:.{digits}f}"


def _ratio(x):
    return f"{x:.2f}x"


BENCH_NAMES = {
    "skmnist": "skmnist pipeline (TensorFlow)",
    "skmnist-jax": "skmnist pipeline (JAX)",
    "skmnist-mlp": "`skmnist.MLPClassifier`",
    "keras": "plain Keras `model.fit`",
    "scikeras": "stock scikeras",
    "sklearn": "scikit-learn `MLPClassifier`",
    "sklearn-1blas": "scikit-learn `MLPClassifier`, 1 BLAS thread",
    "skmnist-wide": "skmnist, TensorFlow, dropout 0.3",
    "skmnist-jax-wide": "skmnist, JAX, dropout 0.3",
    "sklearn-wide": "scikit-learn `MLPClassifier`, no dropout",
}


def _seeds(figures):
    seeds = figures["seeds"]
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    return f"the median over seeds {', '.join(map(str, seeds))}"


def table_bench(record):
    f = record["figures"]
    rows = [
        [
            BENCH_NAMES.get(name, name),
            _s(r["fit_s"]),
            _ratio(r["x_sklearn"]) if r.get("x_sklearn") else "-",
            _s(r["accuracy"], 4),
            _s(r["predict_one_ms"], 3),
            _s(r["predict_10k_s"], 3),
            f"{r['peak_rss_mb']:.0f}",
        ]
        for name, r in f["contenders"].items()
    ]
    notes = [
        f"{f['n_train']:,} training images, {f['epochs']} epochs, {_seeds(f)}; "
        'each fit in a fresh process. "1 image" is the median latency of '
        '`predict_proba` on one image; "peak MB" the fitting process\'s peak '
        "resident memory"
        + (
            " (JAX was installed, so TensorFlow imported it too)."
            if f.get("jax_installed")
            else "."
        ),
        f"`import skmnist`: {_s(f['import_skmnist_s'], 3)} s in a fresh "
        f"interpreter (`python -c pass`: {_s(f['python_startup_s'], 3)} s).",
    ]
    header = [
        "contender",
        "fit s",
        "x sklearn",
        "accuracy",
        "1 image ms",
        "10k s",
        "peak MB",
    ]
    return header, rows, notes


# The design card's targets (docs/shared design), checked against the record.
def table_bench_targets(record):
    f = record["figures"]
    c = f["contenders"]
    tf, sk = c.get("skmnist"), c.get("sklearn")
    rows = []

    def row(figure, target, value, met):
        rows.append([figure, target, value, "met" if met else "**not met**"])

    if tf and sk:
        row(
            "fit, seed network, vs `MLPClassifier`",
            "at most 0.5x",
            _ratio(tf["x_sklearn"]),
            tf["x_sklearn"] <= 0.5,
        )
        row(
            "test accuracy, seed network",
            "at least 0.965",
            _s(tf["accuracy"], 4),
            tf["accuracy"] >= 0.965,
        )
        row(
            "`predict` of one image",
            "at most `MLPClassifier`'s",
            f"{_s(tf['predict_one_ms'], 3)} ms vs {_s(sk['predict_one_ms'], 3)} ms",
            tf["predict_one_ms"] <= sk["predict_one_ms"],
        )
        row(
            "`predict` of 10,000 images",
            "at most 30 ms",
            f"{tf['predict_10k_s'] * 1e3:.0f} ms",
            tf["predict_10k_s"] <= 0.030,
        )
        row(
            "peak memory of a seed fit",
            "at most 1.2 GB",
            f"{tf['peak_rss_mb'] / 1e3:.2f} GB",
            tf["peak_rss_mb"] <= 1200,
        )
    row(
        "`import skmnist`",
        "at most 0.3 s",
        f"{_s(f['import_skmnist_s'], 3)} s",
        f["import_skmnist_s"] <= 0.3,
    )
    return ["figure", "target", "measured", ""], rows, []


def table_migration(record):
    c = record["figures"]["contenders"]
    rows = []
    for name, label in (
        ("sklearn", "`sklearn.neural_network.MLPClassifier`"),
        ("sklearn-1blas", "the same, its BLAS on one thread"),
        ("skmnist-mlp", "`skmnist.MLPClassifier`"),
    ):
        if name in c:
            r = c[name]
            rows.append(
                [
                    label,
                    f"{_s(r['fit_s'])} s",
                    _ratio(r["x_sklearn"]),
                    _s(r["accuracy"], 4),
                ]
            )
    f = record["figures"]
    notes = [
        f"`MLPClassifier((32, 64), max_iter={f['epochs']}, batch_size=100)` on the "
        f"{f['n_train']:,} MNIST training images (flattened, float32 in [0, 1]), "
        f"scored on the 10,000 test images; {_seeds(f)}, each fit in a fresh process."
    ]
    return ["", "fit wall time", "x sklearn", "test accuracy"], rows, notes


def table_bench_wide(record):
    f = record["figures"]
    rows = [
        [
            BENCH_NAMES.get(name, name),
            str(r["epochs_run"]) if r.get("epochs_run") is not None else "-",
            _s(r["fit_s"], 1),
            _s(r["accuracy"], 4),
        ]
        for name, r in f["contenders"].items()
    ]
    notes = [
        f"(512, 256), early stopping, up to {f['epochs']} epochs, "
        f"{f['n_train']:,} training images, {_seeds(f)}."
    ]
    return ["contender", "epochs", "fit s", "test accuracy"], rows, notes


# --best's contenders: (recipe, backend).
BEST_ROWS = {
    "skmnist-best": ("`--preset best`", "TensorFlow"),
    "skmnist-jax-best": ("`--preset best`", "JAX"),
    "skmnist-best-noaug": ("`--preset best` without augmentation", "TensorFlow"),
    "skmnist-jax-best-noaug": ("`--preset best` without augmentation", "JAX"),
    "sklearn-best": ("scikit-learn `MLPClassifier`, same shape", "NumPy"),
}


def _recipe(recipe):
    """A recorded recipe in words: its parameters as the classifier takes them."""

    def value(v):
        if isinstance(v, list):
            return "(" + ", ".join(map(str, v)) + ("," if len(v) == 1 else "") + ")"
        return f"{v:g}" if isinstance(v, float) else str(v)

    parts = [
        f"`{k}={value(v)}`"
        for k, v in recipe.items()
        if k not in ("augmentation", "halve_every")
    ]
    if recipe.get("halve_every"):
        parts.append(f"the learning rate halved every {recipe['halve_every']} epochs")
    augmentation = recipe.get("augmentation")
    if augmentation is not None:
        args = ", ".join(f"{k}={value(v)}" for k, v in augmentation.items())
        parts.append(f"`augmentation=ImageAugmentation({args})`")
    return ", ".join(parts)


def table_bench_best(record):
    f = record["figures"]
    c = f["contenders"]
    rows = []
    for name, r in c.items():
        recipe, backend = BEST_ROWS.get(name, (name, "-"))
        rows.append(
            [
                recipe,
                backend,
                str(r["epochs_run"]) if r.get("epochs_run") is not None else "-",
                _s(r["fit_s"], 1),
                _s(r["s_per_epoch"]) if r.get("s_per_epoch") else "-",
                _ratio(r["x_sklearn"]) if r.get("x_sklearn") else "-",
                _s(r["accuracy"], 4),
            ]
        )
    added = []
    for backend, aug, plain in (
        ("TensorFlow", "skmnist-best", "skmnist-best-noaug"),
        ("JAX", "skmnist-jax-best", "skmnist-jax-best-noaug"),
    ):
        if c.get(aug, {}).get("s_per_epoch") and c.get(plain, {}).get("s_per_epoch"):
            extra = c[aug]["s_per_epoch"] - c[plain]["s_per_epoch"]
            added.append(
                f"{_s(extra)} s per epoch on {backend} (an epoch takes "
                f"{_ratio(c[aug]['s_per_epoch'] / c[plain]['s_per_epoch'])} "
                "as long as without it)"
            )
    notes = [
        f"The recipe of `skmnist train --preset {f['preset']}`: "
        f"{_recipe(f['recipe'])}; on the {f['n_train']:,} training images, "
        f"{_seeds(f)}, scored on the 10,000 test images, each fit in a fresh "
        'process; "s per epoch" is the fit time over the epochs, start-up '
        "included. `MLPClassifier` gets the same hidden layers, batch size, "
        "initial learning rate and epochs, without augmentation or halving "
        "(scikit-learn's Adam has neither)."
    ]
    if added:
        notes.append("Augmentation adds " + "; ".join(added) + ".")
    header = [
        "recipe",
        "backend",
        "epochs",
        "fit s",
        "s per epoch",
        "x sklearn",
        "test accuracy",
    ]
    return header, rows, notes


def _params(best):
    return ", ".join(f"{k.split('__')[-1]}={v}" for k, v in best.items())


def table_bench_search(record):
    f = record["figures"]
    rows = [
        [
            f"{r['contender']}, {r['mode']}",
            str(r["n_fits"]),
            _s(r["startup_seconds"], 1),
            _s(r["seconds"], 1),
            _ratio(r["ratio"]) if r["ratio"] is not None else "-",
            _ratio(r["ratio_with_startup"]) if r["ratio"] is not None else "-",
            _s(r["best_score"], 4),
        ]
        for r in f["searches"]
    ]
    notes = [
        f"`GridSearchCV`, 3 folds, on {f['n_train']:,} training images; each "
        'search in a fresh process. "ratio": the search\'s time over '
        '`MLPClassifier`\'s with the same `n_jobs`; "with start-up" counts '
        "each process's imports too."
    ]
    header = [
        "search",
        "fits",
        "start-up s",
        "search s",
        "ratio",
        "with start-up",
        "best score",
    ]
    return header, rows, notes


def table_bench_search_fit(record):
    f = record["figures"]
    one, memory = f["one_fit"], f["fits_in_one_process"]
    rows = [[label, f"{_s(s)} s"] for label, s in one["seconds"].items()]
    rows += [
        ["per epoch", f"{_s(one['per_epoch_seconds'])} s"],
        ["fixed cost, first fit", f"{_s(one['fixed_first_seconds'])} s"],
        ["fixed cost, later fits", f"{_s(one['fixed_later_seconds'])} s"],
    ]
    (n_a, mb_a), (n_b, mb_b) = memory["resident_mb"].items()
    rows.append(
        [f"resident after seed fit {n_a} / {n_b}", f"{mb_a:,.0f} / {mb_b:,.0f} MB"]
    )
    notes = [
        f"One skmnist fit of {one['n_samples']:,} images in a fresh process, "
        "after the backend's start-up; then seed fits of "
        f"{memory['n_samples']:,} images one after another in one process."
    ]
    return ["figure", "measured"], rows, notes


def table_scaling_out(record):
    rows = [
        [
            {
                "n_jobs=1": "`n_jobs=1`",
                "n_jobs=2": "`n_jobs=2` (joblib's local processes)",
                "dask 2 workers": "2-worker Dask `LocalCluster`, 1 thread each",
                "dask fault-tol.": "the same through `fault_tolerant_client`",
            }.get(r["mode"], r["mode"]),
            f"{_s(r['seconds'], 1)} s",
            _params(r["best_params"]),
            _s(r["best_score"], 4),
        ]
        for r in record["figures"]["searches"]
        if r["contender"] == "skmnist"
    ]
    notes = [f"{record['figures']['n_train']:,} training images, 3 folds."]
    return (
        ["search", "wall time", "best parameters", "best mean CV accuracy"],
        rows,
        notes,
    )


SMALL_TARGETS = {"adam": 1.0, "lbfgs": 2.0}


def table_bench_small(record):
    f = record["figures"]
    rows = []
    for group, s in f["summary"].items():
        shapes = "(100,) and (10, 10)" if group == "adam" else "(10, 10), 5 alphas"
        label = f"`{group}`, {shapes}"
        target = f"at most {SMALL_TARGETS[group]:.1f}x"
        if "skmnist_refused" in s:
            rows.append(
                [
                    label,
                    str(s["fits"]),
                    "refused",
                    _s(s["sklearn_seconds"]),
                    "-",
                    target,
                    "-",
                ]
            )
        else:
            rows.append(
                [
                    label,
                    str(s["fits"]),
                    _s(s["skmnist_seconds"]),
                    _s(s["sklearn_seconds"]),
                    _ratio(s["ratio"]),
                    target
                    + (
                        ": met"
                        if s["ratio"] <= SMALL_TARGETS[group]
                        else ": **not met**"
                    ),
                    _s(s["max_score_gap"], 3),
                ]
            )
    warm = "; ".join(
        f"{key}: skmnist "
        + ("refused" if times["skmnist"] is None else f"{_s(times['skmnist'])} s")
        + f", scikit-learn {_s(times['sklearn'])} s"
        for key, times in f["warm_up_s"].items()
    )
    notes = [
        f"{len(f['sets'])} toy set{'s' if len(f['sets']) > 1 else ''} "
        f"({', '.join(f['sets'])}), {f['n_train']} rows "
        f"trained, `max_iter={f['max_iter']}`, summed fit times (each the median "
        f"of {f['repeats']}) in one process after a warm-up; the score gap is the "
        "largest difference in test accuracy over the group's fits (target: at "
        "most 0.10).",
        f"The backend's start-up took {_s(f['backend_startup_s'])} s; the warm-up "
        f"fits, each shape's first: {warm}.",
    ]
    header = [
        "solver, widths",
        "fits",
        "skmnist s",
        "sklearn s",
        "ratio",
        "target",
        "score gap",
    ]
    return header, rows, notes


def table_bench_onnx(record):
    f = record["figures"]
    one, whole = f["one_image_ms"], f["test_set_s"]
    rows = [
        [
            "`pipe.predict(image[None])`",
            f"{_s(one['pipe.predict'], 3)} ms",
            f"{_s(whole['pipe.predict'], 3)} s",
        ],
        [
            "`pipe.predict_proba(image[None])`",
            f"{_s(one['pipe.predict_proba'], 3)} ms",
            "-",
        ],
        [
            '`session.run(None, {"images": image[None]})`',
            f"{_s(one['session.run'], 3)} ms",
            f"{_s(whole['session.run'], 3)} s",
        ],
    ]
    notes = [
        f"The seed pipeline fitted on {f['n_train']:,} training images "
        f"({f['epochs']} epochs); one image: the median of {f['calls']:,} calls; "
        "the 10,000 test images in one call: the median of 5. onnxruntime "
        f"answers one image {f['one_image_ratio']:.1f} times sooner than the "
        "pipeline."
    ]
    return ["call", "one image", "10,000 images"], rows, notes


FIRST_FIT_CASES = {
    "seed-1": "seed pipeline, 1 epoch",
    "seed-3": "seed pipeline, 3 epochs",
    "digits": "`MLPClassifier`, digits",
}
FIRST_FIT_PHASES = {
    "build": "build the network",
    "trace": "trace",
    "compile": "compile",
    "first epoch": "first epoch",
    "later epochs": "later epochs",
    "rest": "the rest",
}


def _seconds_or_dash(value):
    return "-" if value is None else _s(value)


def _first_fit_rows(cases, label, get):
    return [label, *(_seconds_or_dash(get(c)) for c in cases)]


def table_bench_first_fit(record):
    f = record["figures"]
    cases = {k: f["cases"][k] for k in FIRST_FIT_CASES if k in f["cases"]}
    one = next(iter(cases.values()))
    backend = BACKENDS.get(one["backend"], one["backend"])
    start_up = {
        "import skmnist": "`import skmnist`",
        "import Keras": f"`import keras` ({backend})",
        "backend start-up": "the backend's start-up",
        "load the data": "load the data",
        "import the estimator": "make the first estimator (its imports)",
    }
    rows = [
        _first_fit_rows(cases.values(), text, lambda c, k=k: c["start_up"][k])
        for k, text in start_up.items()
    ]
    for fit, name in (("first_fit", "first fit"), ("second_fit", "second fit")):
        rows.append(
            _first_fit_rows(
                cases.values(), f"**{name}**", lambda c, f=fit: c[f]["total"]
            )
        )
        rows += [
            _first_fit_rows(
                cases.values(), f"{name}: {text}", lambda c, f=fit, p=phase: c[f][p]
            )
            for phase, text in FIRST_FIT_PHASES.items()
        ]
    rows.append(
        _first_fit_rows(cases.values(), "**whole process**", lambda c: c["process_s"])
    )
    epochs = ", ".join(
        f"{FIRST_FIT_CASES[k]}: {c['first_fit']['epochs']}" for k, c in cases.items()
    )
    digits = f["cases"].get("digits")
    notes = [
        f"Seconds, each case in a fresh process. The seed pipeline trains on the "
        f"first {f['n_train']:,} MNIST training images"
        + (
            f"; `MLPClassifier(random_state=0)` on the {digits['n_samples']:,} "
            "digits of `load_digits`, scaled to [0, 1]"
            if digits
            else ""
        )
        + f'. Epochs trained: {epochs}. "compile" is XLA\'s compile, or on '
        "the step-by-step path TensorFlow's first run of the traced graph: what "
        "a first call took beyond a later call of as many batches. The second "
        'fit is of the same network and data, in the same process; "whole '
        "process\" counts Python's start-up and the data too.",
    ]
    header = ["seconds", *(FIRST_FIT_CASES[k] for k in cases)]
    return header, rows, notes


def table_bench_first_fit_cache(record):
    f = record["figures"]["cases"]
    cases = {
        label: f[k]
        for k, label in (
            ("seed-3", "no cache"),
            ("cache-cold", "cache, empty"),
            ("cache-warm", "cache, warm"),
        )
        if k in f
    }
    if len(cases) < 3:
        return ["seconds", *cases], [], ["The cache's cases ran only in a full run."]
    base = cases["no cache"]["first_fit"]["total"]
    rows = [
        _first_fit_rows(
            cases.values(), "first fit: trace", lambda c: c["first_fit"]["trace"]
        ),
        _first_fit_rows(
            cases.values(), "first fit: compile", lambda c: c["first_fit"]["compile"]
        ),
        _first_fit_rows(cases.values(), "first fit", lambda c: c["first_fit"]["total"]),
        ["first fit, over no cache's"]
        + [_ratio(c["first_fit"]["total"] / base) for c in cases.values()],
        _first_fit_rows(cases.values(), "whole process", lambda c: c["process_s"]),
    ]
    notes = [
        "The seed pipeline's 3-epoch fit in three fresh processes: without "
        "`SKMNIST_COMPILE_CACHE`, then with it on an empty directory, then on "
        'the directory the second process filled (where "compile" is '
        "loading the program)."
    ]
    return ["seconds", *cases], rows, notes


def _transcript(which):
    def table(record):
        run = record["figures"][which]
        return None, ["$ " + run["command"], *run["output"]], []

    return table


# name: (record, table function). A table with header None is a transcript.
TABLES = {
    "bench": ("bench", table_bench),
    "bench_targets": ("bench", table_bench_targets),
    "migration": ("bench", table_migration),
    "bench_wide": ("bench_wide", table_bench_wide),
    "bench_best": ("bench_best", table_bench_best),
    "bench_search": ("bench_search", table_bench_search),
    "bench_search_fit": ("bench_search", table_bench_search_fit),
    "scaling_out": ("bench_search", table_scaling_out),
    "bench_small": ("bench_small", table_bench_small),
    "bench_onnx": ("bench_onnx", table_bench_onnx),
    "cli_train": ("bench_cli", _transcript("train")),
    "cli_export": ("bench_cli", _transcript("export")),
    "bench_first_fit": ("bench_first_fit", table_bench_first_fit),
    "bench_first_fit_cache": ("bench_first_fit", table_bench_first_fit_cache),
}


# -- provenance -----------------------------------------------------------------


def provenance(record):
    """Where a table's figures come from: command, date, machine, load, versions."""
    m, load, v = record["machine"], record["load"], record["versions"]
    backend = v.get("keras_backend", "tensorflow")
    packages = ", ".join(f"{PACKAGE_NAMES[k]} {v[k]}" for k in PACKAGE_NAMES if k in v)
    text = (
        f"Recorded by `{record['command']}` on {record['date']} "
        f"(`benchmarks/results/{record['name']}.json`): {m['cpu']}, {m['cores']} "
        f"cores, {m['memory_gb']} GB of memory; load average {load['before'][0]} "
        f"before the run and {load['after'][0]} after it, other processes using "
        f"{load['others_cpu_cores']} cores during it; Python {v['python']}, "
        f"{packages}; Keras on {BACKENDS.get(backend, backend)}."
    )
    if record.get("quick"):
        text = "**Not a measurement:** a `--quick` smoke run. " + text
    elif not record.get("quiet"):
        text = "**Not a quiet run:** the figures are not comparable. " + text
    return text


def placeholder(name):
    return (
        f"*{PLACEHOLDER}:* `{COMMANDS[name]}` on a quiet machine writes "
        f"`benchmarks/results/{name}.json`, and these figures with it."
    )


# -- formats --------------------------------------------------------------------


def _rst_inline(text):
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


def _rst(header, rows, paragraphs):
    lines = []
    if header is None:  # a transcript
        lines += [".. code-block:: text", ""] + ["   " + r for r in rows] + [""]
    elif rows:
        lines += [".. list-table::", "   :header-rows: 1", ""]
        for row in [header, *rows]:
            cells = [_rst_inline(c) for c in row]
            lines.append(f"   * - {cells[0]}" if cells[0] else "   * -")
            lines += [f"     - {c}" if c else "     -" for c in cells[1:]]
        lines.append("")
    for p in paragraphs:
        lines += [_rst_inline(p), ""]
    return "\n".join(lines).rstrip() + "\n"


def _md(header, rows, paragraphs):
    lines = []
    if header is None:
        lines += ["```text", *rows, "```", ""]
    elif rows:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        lines.append("")
    for p in paragraphs:
        lines += [p, ""]
    return "\n".join(lines).rstrip() + "\n"


def render(name, fmt, results=None):
    """Table ``name`` in ``fmt`` ("rst" or "md"), from its record or a placeholder."""
    source, table = TABLES[name]
    record = load(source, results)
    if record is None:
        header, rows, paragraphs = [], [], [placeholder(source)]
    else:
        header, rows, notes = table(record)
        paragraphs = [*notes, provenance(record)]
    return (_rst if fmt == "rst" else _md)(header, rows, paragraphs)


# -- the README's blocks ----------------------------------------------------------

BLOCK = re.compile(r"(<!-- figures:(\w+) -->\n)(.*?)(<!-- /figures:\2 -->)", re.S)


def rewrite(text, results=None):
    """``text`` with every figures block rendered afresh."""
    return BLOCK.sub(
        lambda m: m.group(1) + render(m.group(2), "md", results) + m.group(4), text
    )


def stale_blocks(text, results=None):
    """The names of the blocks in ``text`` that differ from their records."""
    return [
        m.group(2)
        for m in BLOCK.finditer(text)
        if m.group(3) != render(m.group(2), "md", results)
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if stale"
    )
    parser.add_argument("--results", metavar="DIR", help="read the records here")
    parser.add_argument("--readme", default=str(README), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    text = readme.read_text()
    if args.check:
        stale = stale_blocks(text, args.results)
        for name in stale:
            print(
                f"{readme}: the {name} block differs from its record", file=sys.stderr
            )
        return 1 if stale else 0
    new = rewrite(text, args.results)
    if new != text:
        readme.write_text(new)
        print(f"rewrote {readme}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
