"""The documentation renders in a real browser, and the quick-start notebook runs.

The browser tests open the built Sphinx site (``SKMNIST_DOCS_HTML``, default
``docs/_build/html``) and the page ``skmnist report`` writes in a headless
Chromium (``SKMNIST_CHROMIUM``, else ``chromium`` on PATH), and check that each
page renders: a screenshot that is not blank, every ``<img>`` loaded, no console
error. Without the built site or Chromium they are skipped, with the reason;
with ``SKMNIST_REQUIRE_DOCS=1`` (as in CI, after it builds the site) they fail
instead, and with ``SKMNIST_REQUIRE_CHROMIUM=1`` (CI's whole run) a missing
Chromium fails them. The notebook test executes ``examples/quick_start.ipynb``
on a real kernel on a small slice of MNIST.
"""

import functools
import http.server
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from ._chromium import Chromium, find_chromium

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "quick_start.ipynb"

# The pages of the site the browser opens: the front page, the API page of the
# classifier, one gallery example (with its figures).
SITE_PAGES = {
    "front": "index.html",
    "api-KerasMLPClassifier": "generated/skmnist.KerasMLPClassifier.html",
    "example-quick-start": "auto_examples/plot_quick_start.html",
}


def _missing(reason, *required_by):
    """Skip, or fail when one of ``SKMNIST_REQUIRE_DOCS`` or ``required_by`` is 1."""
    for name in ("SKMNIST_REQUIRE_DOCS", *required_by):
        if os.environ.get(name) == "1":
            pytest.fail(f"{reason} ({name}=1: required)")
    pytest.skip(reason)


def _screenshots(tmp_path_factory):
    """Where screenshots go: ``SKMNIST_DOCS_SCREENSHOTS``, else a temporary dir."""
    where = os.environ.get("SKMNIST_DOCS_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        _missing(
            "no Chromium found (set SKMNIST_CHROMIUM, or on Debian: "
            "apt-get install chromium)",
            "SKMNIST_REQUIRE_CHROMIUM",
        )
    with Chromium(executable) as chromium:
        yield chromium


def _serve(directory):
    """Serve ``directory`` on 127.0.0.1 in a thread; return (server, base URL)."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.fixture(scope="module")
def site():
    html = Path(os.environ.get("SKMNIST_DOCS_HTML") or ROOT / "docs/_build/html")
    if not (html / "index.html").is_file():
        _missing(
            f"no built site at {html} (build it with: pip install '.[docs]' && "
            "python -m sphinx -W --keep-going -b html docs docs/_build/html; "
            "or set SKMNIST_DOCS_HTML)"
        )
    server, url = _serve(html)
    yield url
    server.shutdown()
    server.server_close()


def _assert_renders(browser, url, screenshot):
    problems, stats = browser.check_page(url, screenshot=screenshot)
    assert not problems, f"{url} does not render cleanly:\n" + "\n".join(problems)
    return stats


@pytest.mark.parametrize("page", SITE_PAGES, ids=list(SITE_PAGES))
def test_site_page_renders_in_chromium(page, site, browser, tmp_path_factory):
    shots = _screenshots(tmp_path_factory)
    stats = _assert_renders(browser, site + SITE_PAGES[page], shots / f"{page}.png")
    if page == "example-quick-start":
        assert stats["images"] >= 2  # the confusion matrix and the learning curves


@pytest.fixture(scope="module")
def report_page(mnist_home, tmp_path_factory):
    """``skmnist report`` on a model trained on a small slice of MNIST."""
    import skmnist
    from skmnist.cli import main

    X, y = skmnist.fetch_mnist("train", return_X_y=True)
    model = skmnist.make_mnist_pipeline(
        hidden_layer_sizes=(16,), epochs=2, validation_split=0.1, random_state=0
    ).fit(X[:1500], y[:1500])
    where = tmp_path_factory.mktemp("report")
    skmnist.save(model, where / "model.skmnist")
    assert (
        main(
            ["report", str(where / "model.skmnist"), "--output-dir", str(where / "out")]
        )
        == 0
    )
    return where / "out"


def test_report_page_renders_in_chromium(report_page, browser, tmp_path_factory):
    server, url = _serve(report_page)
    try:
        stats = _assert_renders(
            browser, url + "index.html", _screenshots(tmp_path_factory) / "report.png"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert stats["images"] == 5  # the figures, without a search heatmap


def test_the_browser_check_sees_a_broken_page(browser, tmp_path):
    """The browser check can fail: a broken image, a console error, a blank page."""
    (tmp_path / "broken.html").write_text(
        "<!doctype html><html><body><h1>Digits</h1>"
        '<img src="no-such-figure.png" alt="missing">'
        "<script>console.error('boom')</script></body></html>"
    )
    (tmp_path / "blank.html").write_text("<!doctype html><html><body></body></html>")
    server, url = _serve(tmp_path)
    try:
        broken, _ = browser.check_page(url + "broken.html")
        blank, _ = browser.check_page(url + "blank.html")
    finally:
        server.shutdown()
        server.server_close()
    assert any(
        p.startswith("image did not load: ") and "no-such-figure" in p for p in broken
    )
    assert any(p == "console error: boom" for p in broken)
    assert any("404" in p for p in broken)  # the failed request, as Chromium logs it
    assert blank == [next(p for p in blank if p.startswith("blank screenshot"))]


# -- the notebook ---------------------------------------------------------------------


def test_quick_start_notebook_runs_and_shows_the_estimator(mnist_home, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("SKMNIST_EXAMPLE_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    ).execute()
    outputs = [
        o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
    ]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    # scikit-learn's HTML representation of the fitted pipeline and its steps.
    assert any(
        "sk-estimator" in h and "KerasMLPClassifier" in h and "ImageFlattener" in h
        for h in html
    )
    pngs = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) >= 2  # the confusion matrix and the learning curves
    text = "".join(o.get("text", "") for o in outputs)
    accuracy = float(text.split("test accuracy: ")[1].split()[0])
    assert 0.5 < accuracy <= 1
    assert np.isfinite(accuracy)


# -- the recipes the pages show -----------------------------------------------------


def _train_presets():
    import sys

    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    try:
        import preset_text
    finally:
        sys.path.remove(str(ROOT / "docs" / "_ext"))
    return preset_text


def test_the_pages_recipe_is_what_train_help_prints():
    from ._console import run_skmnist

    shown = _train_presets().help_text("best")
    result = run_skmnist("train", "--help")
    assert result.returncode == 0
    assert " ".join(shown.split()) in " ".join(result.stdout.split())


def test_the_pages_python_builds_the_pipeline_train_preset_best_trains():
    pytest.importorskip("keras")
    from skmnist.cli.train import PRESETS, recipe_pipeline

    namespace = {}
    exec(_train_presets().python_code("best"), namespace)
    shown = namespace["pipeline"].named_steps["mlp"]
    trained = recipe_pipeline(PRESETS["best"], random_state=0).named_steps["mlp"]
    params = shown.get_params(deep=False)
    expected = trained.get_params(deep=False)
    assert params.pop("augmentation").get_params() == (
        expected.pop("augmentation").get_params()
    )
    (shown_schedule,) = params.pop("callbacks")
    (trained_schedule,) = expected.pop("callbacks")
    assert params == expected
    for epoch in range(3 * PRESETS["best"]["epochs"]):
        assert shown_schedule.schedule(epoch) == trained_schedule.schedule(epoch, None)
