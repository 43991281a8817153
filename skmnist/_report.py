"""The ``skmnist report`` page: figures as PNG files and one HTML page.

The page embeds its figures (base64 PNG), so it can be mailed or moved
alone; the PNG files beside it are for slides and documents.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import base64
import html
from pathlib import Path

import numpy as np

from . import __version__, plotting


def _figures(model, X_test, y_test, search_results):
    """``(file stem, title, figure)`` for each figure of the report."""
    predicted = model.predict(X_test)
    mlp = model[-1] if hasattr(model, "steps") else model
    figures = []

    display = plotting.plot_confusion_matrix(y_test, predicted)
    figures.append(("confusion_matrix", "Confusion matrix", display.figure_))
    ax = plotting.plot_per_class_accuracy(y_test, predicted)
    figures.append(("per_class_accuracy", "Accuracy per class", ax.figure))
    axes = plotting.plot_learning_curves(mlp.history_)
    figures.append(("learning_curves", "Learning curves", axes[0].figure))
    fig, _ = plotting.plot_misclassified(X_test, y_test, predicted)
    figures.append(("misclassified", "Misclassified test digits", fig))
    proba = model.predict_proba(X_test[:20])
    fig, _ = plotting.plot_sample_predictions(
        X_test[:20], proba, model.classes_, y_true=y_test[:20]
    )
    figures.append(("sample_predictions", "Sample predictions", fig))
    if search_results is not None:
        ax = plotting.plot_search_heatmap(search_results)
        figures.append(("search_heatmap", "Search: mean CV accuracy", ax.figure))
    return predicted, mlp, figures


def write_report(model, X_test, y_test, output_dir, *, search_results=None):
    """Write the figures and ``index.html`` for ``model`` into ``output_dir``.

    Returns the paths written, the page last.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import classification_report

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    predicted, mlp, figures = _figures(model, X_test, y_test, search_results)

    written, sections = [], []
    for stem, title, fig in figures:
        path = output_dir / f"{stem}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        sections.append(
            f'<h2>{html.escape(title)}</h2>\n<img alt="{html.escape(title)}" '
            f'src="data:image/png;base64,{data}">'
        )

    accuracy = float(np.mean(predicted == y_test))
    report = classification_report(y_test, predicted, output_dict=True, digits=4)
    rows = "\n".join(
        f"<tr><td>{html.escape(str(c))}</td>"
        + "".join(
            f"<td>{report[str(c)][k]:.4f}</td>"
            for k in ("precision", "recall", "f1-score")
        )
        + f"<td>{int(report[str(c)]['support'])}</td></tr>"
        for c in mlp.classes_
    )
    params = ", ".join(
        f"{k}={v!r}"
        for k, v in mlp.get_params(deep=False).items()
        if k
        in (
            "hidden_layer_sizes",
            "activation",
            "solver",
            "epochs",
            "batch_size",
            "dropout",
            "alpha",
            "learning_rate_init",
            "random_state",
        )
    )
    page = _PAGE.format(
        version=__version__,
        accuracy=accuracy,
        n_test=len(y_test),
        n_wrong=int(np.sum(predicted != y_test)),
        epochs=mlp.n_iter_,
        params=html.escape(params),
        rows=rows,
        sections="\n".join(sections),
    )
    index = output_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    written.append(index)
    return written


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>skmnist report</title>
<style>
body {{ font-family: sans-serif; max-width: 1000px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: right; }}
img {{ max-width: 100%; }}
.key {{ font-size: 1.3em; }}
</style>
</head>
<body>
<h1>skmnist report</h1>
<p class="key">Test accuracy <b>{accuracy:.4f}</b> on {n_test} images
({n_wrong} misclassified), after {epochs} epochs.</p>
<p>Model: {params}</p>
<h2>Per class</h2>
<table>
<tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>
{rows}
</table>
{sections}
<p><small>Made by skmnist {version}.</small></p>
</body>
</html>
"""
