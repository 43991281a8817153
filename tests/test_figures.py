"""Every measured figure in the README and the docs comes from a recorded run.

The benchmarks write their records to ``benchmarks/results/NAME.json``; the
docs render their tables from those files (the ``recorded-figures``
directive), and the README carries the same tables between
``<!-- figures:NAME -->`` markers, rewritten by ``benchmarks/render.py``.
These tests check that the README's blocks are what the records give (or the
"not yet recorded" placeholder while there is no record), that the recorded
files are quiet full runs, and that no page carries a hand-typed timing.
"""

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import _record  # noqa: E402  (benchmarks/_record.py)
import render  # noqa: E402  (benchmarks/render.py)

PAGES = sorted((ROOT / "docs").rglob("*.rst"))
PAGES = [
    p for p in PAGES if not {"_build", "generated", "auto_examples"} & set(p.parts)
]
# The gallery's pages: the examples' text and their header.
EXAMPLES = [
    *sorted((ROOT / "examples").glob("*.py")),
    ROOT / "examples/GALLERY_HEADER.rst",
]
DIRECTIVE = re.compile(r"^\.\. recorded-figures:: (\S+)\s*$", re.M)

# A measured figure as a page would type it: a duration, a size, a speed-up,
# an accuracy past 0.9 or in per cent with decimals.
FIGURE = re.compile(
    r"\b\d[\d,]*(?:\.\d+)?\s?(?:s|ms|µs|us|seconds?|minutes?|[KMG]i?B)\b"
    r"|\b\d+(?:\.\d+)?x\b(?! ?\d)"
    r"|\b0\.9\d\d+\b"
    r"|\b\d+\.\d+%"
    r"|\b\d+(?:\.\d+)? times (?:sooner|faster|slower)\b"
)
# Figures that are not measurements: limits the code enforces, sizes that
# follow from arithmetic, parameters, and made-up example output.
NOT_MEASURED = {
    ("docs/user_guide/performance.rst", "47 MB"): "60,000 x 784 bytes",
    ("docs/user_guide/performance.rst", "188 MB"): "60,000 x 784 float32",
    ("docs/user_guide/scaling_out.rst", "50 MB"): "60,000 x 784 bytes",
    ("docs/user_guide/cli.rst", "300 MB"): "the bound the image reader keeps",
    ("docs/user_guide/cli.rst", "0.991"): "output of predict on a reader's photo",
    ("docs/user_guide/data.rst", "30 s"): "rate_window's default",
    ("docs/user_guide/data.rst", "0.2 s"): "a test's trickle, a byte every 0.2 s",
    ("docs/user_guide/data.rst", "4 GiB"): "a test's hostile gzip",
    ("docs/user_guide/data.rst", "1.6%"): "the bound on a gzip's decompressed size",
    ("examples/plot_quick_start.py", "4s"): "the digit 4, plural",
    ("examples/plot_quick_start.py", "9s"): "the digit 9, plural",
    ("docs/user_guide/persistence.rst", "16 MiB"): "the model file's JSON limit",
    ("docs/user_guide/persistence.rst", "400 MB"): "the tests' bound",
    ("docs/user_guide/persistence.rst", "60 s"): "the tests' bound",
}


def _hand_typed(path, text):
    """``(figure, line)`` of every measured-looking figure not known as such."""
    name = path.relative_to(ROOT).as_posix()
    found = []
    for line in text.splitlines():
        for match in FIGURE.finditer(line):
            figure = match.group(0)
            if (name, figure) in NOT_MEASURED:
                continue
            found.append((figure, line.strip()))
    return found


def _readme_outside_blocks():
    return render.BLOCK.sub("", render.README.read_text())


def _record_for_test(tmp_path, name, figures):
    """A record as ``--json`` writes it, of a run made in this process."""
    record = _record.Run(name, quick=False, argv=[f"benchmarks/{name}.py"]).record(
        figures
    )
    (tmp_path / f"{name}.json").write_text(json.dumps(record))
    return record


BENCH_FIGURES = {
    "n_train": 60000,
    "epochs": 10,
    "seeds": [0, 1, 2],
    "contenders": {
        name: {
            "fit_s": fit,
            "accuracy": accuracy,
            "predict_10k_s": 0.027,
            "predict_one_ms": 0.25,
            "peak_rss_mb": 1170.0,
            "epochs_run": 10,
            "x_sklearn": fit / 3.61,
        }
        for name, fit, accuracy in (
            ("skmnist-mlp", 3.04, 0.9686),
            ("sklearn", 3.61, 0.9677),
            ("sklearn-1blas", 3.83, 0.9677),
        )
    },
    "import_skmnist_s": 0.011,
    "python_startup_s": 0.009,
    "jax_installed": True,
}


def _best_run(fit_s, accuracy, epochs=15):
    return {
        "fit_s": fit_s,
        "accuracy": accuracy,
        "predict_10k_s": 0.05,
        "predict_one_ms": 0.3,
        "peak_rss_mb": 1300.0,
        "epochs_run": epochs,
        "x_sklearn": fit_s / 150.0,
        "s_per_epoch": fit_s / epochs,
    }


BEST_FIGURES = {
    "n_train": 60000,
    "epochs": 15,
    "seeds": [0],
    "preset": "best",
    "recipe": {
        "hidden_layer_sizes": [512, 256],
        "batch_size": 128,
        "epochs": 15,
        "learning_rate_init": 0.001,
        "halve_every": 7,
        "augmentation": {"rotation": 10.0, "shift": 2.0, "zoom": 0.1},
    },
    "contenders": {
        "skmnist-best": _best_run(90.0, 0.9911),
        "skmnist-jax-best": _best_run(120.0, 0.9907),
        "skmnist-best-noaug": _best_run(45.0, 0.9842),
        "skmnist-jax-best-noaug": _best_run(60.0, 0.9839),
        "sklearn-best": _best_run(150.0, 0.9838),
    },
}


# -- the README ----------------------------------------------------------------


def test_the_readmes_figures_are_the_recorded_ones():
    text = render.README.read_text()
    names = [m.group(2) for m in render.BLOCK.finditer(text)]
    assert "migration" in names
    assert render.stale_blocks(text) == [], (
        "README.md's figures differ from benchmarks/results/: run "
        "python benchmarks/render.py"
    )


def test_a_digit_changed_by_hand_is_caught(tmp_path):
    _record_for_test(tmp_path, "bench", BENCH_FIGURES)
    readme = render.rewrite(render.README.read_text(), tmp_path)
    assert render.stale_blocks(readme, tmp_path) == []
    assert "| `skmnist.MLPClassifier` | 3.04 s | 0.84x | 0.9686 |" in readme
    changed = readme.replace("| 3.04 s |", "| 3.05 s |")
    assert changed != readme
    assert render.stale_blocks(changed, tmp_path) == ["migration"]
    # Against the repository's own records, a block typed by hand is stale
    # too: whatever they hold, it is not what this made-up run gives.
    assert "migration" in render.stale_blocks(readme)


def test_a_missing_record_shows_the_placeholder_and_nothing_else(tmp_path):
    text = render.render("migration", "md", tmp_path)
    assert text.startswith(f"*{render.PLACEHOLDER}:*")
    assert "python benchmarks/bench.py --record" in text
    assert not re.search(r"\d\.\d", text)


def test_the_render_check_command_fails_on_a_stale_readme(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "x\n<!-- figures:migration -->\n| 56.7 s |\n<!-- /figures:migration -->\n"
    )
    results = str(tmp_path / "none")
    assert render.main(["--check", "--readme", str(readme), "--results", results]) == 1
    assert render.main(["--readme", str(readme), "--results", results]) == 0
    assert render.PLACEHOLDER in readme.read_text()
    assert render.main(["--check", "--readme", str(readme), "--results", results]) == 0


def test_the_quick_starts_about_097_agrees_with_the_record():
    record = render.load("bench")
    for page in (render.README, ROOT / "docs/index.rst"):
        assert "# about 0.97" in page.read_text()
    if record is not None:  # once recorded, the rounded figure must hold
        accuracy = record["figures"]["contenders"]["skmnist"]["accuracy"]
        assert round(accuracy, 2) == 0.97


# -- the docs -------------------------------------------------------------------


def test_every_table_is_shown_and_every_directive_names_a_table():
    shown = set()
    for page in PAGES:
        for name in DIRECTIVE.findall(page.read_text()):
            assert name in render.TABLES, f"{page}: unknown figures {name!r}"
            shown.add(name)
    shown |= {m.group(2) for m in render.BLOCK.finditer(render.README.read_text())}
    assert shown == set(render.TABLES)


@pytest.mark.parametrize("name", sorted(render.TABLES))
def test_each_table_renders_as_valid_rst(name, tmp_path):
    docutils_core = pytest.importorskip("docutils.core")
    for results in (tmp_path, None):  # the placeholder, then the record if any
        text = render.render(name, "rst", results)
        docutils_core.publish_doctree(
            text, settings_overrides={"halt_level": 2, "report_level": 2}
        )


def test_a_recorded_table_shows_its_machine_load_and_versions(tmp_path):
    record = _record_for_test(tmp_path, "bench", BENCH_FIGURES)
    text = render.render("migration", "rst", tmp_path)
    assert "``python benchmarks/bench.py``" in text
    assert record["machine"]["cpu"] in text
    assert f"load average {record['load']['before'][0]} before" in text
    assert f"scikit-learn {record['versions']['scikit-learn']}" in text
    assert ("Not a quiet run" in text) == (not record["quiet"])
    quick = {**record, "quick": True}
    (tmp_path / "bench.json").write_text(json.dumps(quick))
    assert "**Not a measurement:** a ``--quick`` smoke run" in render.render(
        "migration", "rst", tmp_path
    )


def test_the_best_recipes_table_shows_what_was_run_and_what_augmentation_costs(
    tmp_path,
):
    _record_for_test(tmp_path, "bench_best", BEST_FIGURES)
    text = render.render("bench_best", "md", tmp_path)
    assert "| `--preset best` | TensorFlow | 15 | 90.0 | 6.00 | 0.60x | 0.9911 |" in (
        text
    )
    assert (
        "| `--preset best` without augmentation | JAX | 15 | 60.0 | 4.00 | 0.40x "
        "| 0.9839 |"
    ) in text
    assert "| scikit-learn `MLPClassifier`, same shape | NumPy | 15 | 150.0 |" in text
    # The recipe as recorded, not as PRESETS says today.
    assert (
        "`hidden_layer_sizes=(512, 256)`, `batch_size=128`, `epochs=15`, "
        "`learning_rate_init=0.001`, the learning rate halved every 7 epochs, "
        "`augmentation=ImageAugmentation(rotation=10, shift=2, zoom=0.1)`"
    ) in text
    # (90 - 45) / 15 and (120 - 60) / 15 seconds per epoch.
    assert (
        "Augmentation adds 3.00 s per epoch on TensorFlow (an epoch takes 2.00x as "
        "long as without it); 4.00 s per epoch on JAX (an epoch takes 2.00x as "
        "long as without it)."
    ) in " ".join(text.split())
    # Without JAX (not installed when recorded), TensorFlow's rows alone.
    figures = {
        **BEST_FIGURES,
        "contenders": {
            k: v for k, v in BEST_FIGURES["contenders"].items() if "jax" not in k
        },
    }
    _record_for_test(tmp_path, "bench_best", figures)
    text = render.render("bench_best", "rst", tmp_path)
    assert "JAX" not in text.split("Recorded by")[0]
    assert "Augmentation adds 3.00 s per epoch on TensorFlow" in text


def test_no_page_carries_a_hand_typed_figure():
    found = {}
    for page in PAGES + EXAMPLES:
        text = DIRECTIVE.sub("", page.read_text())
        if hits := _hand_typed(page, text):
            found[page.relative_to(ROOT).as_posix()] = hits
    if hits := _hand_typed(render.README, _readme_outside_blocks()):
        found["README.md"] = hits
    assert not found, "hand-typed figures (record them, or say why not):\n" + "\n".join(
        f"{page}: {figure!r} in {line!r}"
        for page, hits in found.items()
        for figure, line in hits
    )


def test_the_scan_sees_the_figures_it_must_refuse(tmp_path):
    page = ROOT / "docs/user_guide/onnx.rst"
    for line in (
        "``pipe.predict(image[None])``   0.16–0.17 ms",
        "the whole search took 100 s on the JAX backend",
        "in one onnxruntime call takes about 0.08 s.",
        "onnxruntime answers one image about 10 times sooner.",
        "| `sklearn.neural_network.MLPClassifier` | 56.7 s | 0.9677 |",
        "search, ``n_jobs=1``   16.9 s (0.84x)",
        "resident after 3 / 24 seed fits     1,166 / 1,119 MB",
        "The classic network stops near 96.8% test accuracy.",
    ):
        assert _hand_typed(page, line), line


def _first_fit_case(first_total, compile_s, process_s, epochs=3):
    phases = {
        "build": 0.4,
        "trace": 0.5,
        "compile": compile_s,
        "first epoch": 0.1,
        "later epochs": 0.2,
        "rest": 0.1,
    }
    return {
        "backend": "tensorflow",
        "n_samples": 6000,
        "n_features": 784,
        "start_up": {
            "import skmnist": 0.01,
            "import Keras": 3.9,
            "backend start-up": 0.2,
            "load the data": 0.3,
            "import the estimator": 0.1,
        },
        "first_fit": {**phases, "total": first_total, "epochs": epochs},
        "second_fit": {
            **phases,
            "trace": 0.0,
            "compile": None,  # a hook that found nothing: shown as "-"
            "total": 0.4,
            "epochs": epochs,
        },
        "process_s": process_s,
    }


def test_the_first_fit_tables_show_each_case_and_the_caches_saving(tmp_path):
    cases = {
        "seed-1": _first_fit_case(1.5, 0.3, 6.0, epochs=1),
        "seed-3": _first_fit_case(2.0, 1.0, 7.0),
        "digits": _first_fit_case(3.0, 1.0, 8.0, epochs=57),
        "cache-cold": _first_fit_case(2.1, 1.1, 7.1),
        "cache-warm": _first_fit_case(1.2, 0.2, 6.2),
    }
    _record_for_test(tmp_path, "bench_first_fit", {"n_train": 6000, "cases": cases})
    breakdown = render.render("bench_first_fit", "md", tmp_path)
    assert "| seconds | seed pipeline, 1 epoch | seed pipeline, 3 epochs |" in (
        breakdown
    )
    assert "| first fit: compile | 0.30 | 1.00 | 1.00 |" in breakdown
    assert "| second fit: compile | - | - | - |" in breakdown
    assert "`MLPClassifier`, digits: 57" in breakdown
    cache = render.render("bench_first_fit_cache", "md", tmp_path)
    assert "| seconds | no cache | cache, empty | cache, warm |" in cache
    assert "| first fit, over no cache's | 1.00x | 1.05x | 0.60x |" in cache
    # a quick run has no cache cases: the table says so, and renders
    quick = {k: cases[k] for k in ("seed-1", "digits")}
    _record_for_test(tmp_path, "bench_first_fit", {"n_train": 1000, "cases": quick})
    assert "only in a full run" in render.render(
        "bench_first_fit_cache", "md", tmp_path
    )
    docutils_core = pytest.importorskip("docutils.core")
    for name in ("bench_first_fit", "bench_first_fit_cache"):
        docutils_core.publish_doctree(
            render.render(name, "rst", tmp_path),
            settings_overrides={"halt_level": 2, "report_level": 2},
        )


# -- the records ------------------------------------------------------------------


def test_recorded_files_are_quiet_full_runs():
    for path in sorted(render.RESULTS.glob("*")):
        assert path.suffix == ".json" and path.stem in render.COMMANDS, path
        record = json.loads(path.read_text())
        assert record["name"] == path.stem, path
        assert record["quick"] is False, path
        assert record["quiet"] is True, path
        assert record["load"]["before"][0] <= _record.MAX_LOAD, path
        for key in ("cpu", "cores", "memory_gb"):
            assert record["machine"][key], path
        for key in ("python", "numpy", "scikit-learn", "keras"):
            assert record["versions"][key], path


def test_record_refuses_quick_and_loaded_runs(tmp_path, capsys):
    class Args:
        record = True
        json = str(tmp_path / "scratch.json")

    run = _record.Run("bench_test_refusal", quick=True)
    record = run.record({"x": 1})
    assert _record.write(record, Args) == 3
    assert "--quick" in capsys.readouterr().err
    loaded = {**record, "quick": False, "quiet": False}
    assert _record.write(loaded, Args) == 3
    assert "not quiet" in capsys.readouterr().err
    assert not (render.RESULTS / "bench_test_refusal.json").exists()
    assert json.loads(Path(Args.json).read_text())["figures"] == {"x": 1}


def test_benchmark_scripts_can_record():
    for name in {source for source, _ in render.TABLES.values()}:
        script = ROOT / render.COMMANDS[name].split()[1]
        text = script.read_text()
        assert "_record.add_arguments(parser)" in text, script
        assert "_record.write(" in text, script
        assert f'"{name}"' in text, f"{script} never names its record {name}"
