"""Figures of a fitted model: what it gets right, wrong, and how it learned.

Each function draws on matplotlib, through scikit-learn's display classes
where one exists, and returns the matplotlib objects (or the display) so that
the figure can be changed or saved. They are the figures of ``skmnist
report``.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import re

import numpy as np

from ._search_results import EPOCHS_COLUMN, HIDDEN_LAYER_SIZES_COLUMN

__all__ = [
    "plot_confusion_matrix",
    "plot_per_class_accuracy",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_sample_predictions",
    "plot_search_heatmap",
]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _axes_or_new(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    return _plt().subplots(figsize=figsize, layout="constrained")


def plot_confusion_matrix(y_true, y_pred, *, normalize=None, ax=None):
    """Plot the confusion matrix of true against predicted classes.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    normalize : {"true", "pred", "all"} or None, default=None
        Passed to :meth:`sklearn.metrics.ConfusionMatrixDisplay.from_predictions`.

    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    display : sklearn.metrics.ConfusionMatrixDisplay
        Its ``ax_`` and ``figure_`` hold the drawing.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    _, ax = _axes_or_new(ax, (6, 5.5))
    display = ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, normalize=normalize, ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title("Confusion matrix")
    return display


def plot_per_class_accuracy(y_true, y_pred, *, ax=None):
    """Plot the share of each true class that is predicted right (its recall).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
        The bar chart, one bar per class, labelled with its accuracy.
    """
    from sklearn.metrics import recall_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes = np.unique(y_true)
    accuracy = recall_score(y_true, y_pred, labels=classes, average=None)
    _, ax = _axes_or_new(ax, (7, 3.5))
    bars = ax.bar([str(c) for c in classes], accuracy, color="tab:blue")
    ax.bar_label(bars, labels=[f"{a:.3f}" for a in accuracy], fontsize=8)
    low = max(0.0, math.floor((accuracy.min() - 0.02) * 20) / 20)
    ax.set_ylim(low, 1.0)
    ax.set_xlabel("true class")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Accuracy per class (overall {np.mean(y_true == y_pred):.4f})")
    return ax


def plot_learning_curves(history, *, axes=None):
    """Plot loss and accuracy per epoch, for training and validation data.

    Parameters
    ----------
    history : dict of str to list of float
        A fitted classifier's ``history_``: ``loss`` and ``accuracy``, and
        ``val_loss`` and ``val_accuracy`` when it was validated.

    axes : sequence of two matplotlib Axes, default=None
        Where to draw loss and accuracy; a new figure by default.

    Returns
    -------
    axes : ndarray of two matplotlib Axes
        The loss panel and the accuracy panel.
    """
    from matplotlib.ticker import MaxNLocator

    if axes is None:
        _, axes = _plt().subplots(1, 2, figsize=(9, 3.5), layout="constrained")
    axes = np.asarray(axes)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, label in (("", "training"), ("val_", "validation")):
            values = history.get(prefix + metric)
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, marker="o", markersize=3, label=label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric.capitalize() + " per epoch")
        ax.legend()
    return axes


def _digit_grid(images, titles, colors, n_cols, title):
    n = len(images)
    n_cols = min(n_cols, max(n, 1))
    n_rows = max(math.ceil(n / n_cols), 1)
    fig, axes = _plt().subplots(
        n_rows,
        n_cols,
        figsize=(1.3 * n_cols, 1.5 * n_rows + 0.4),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, text, color in zip(axes.flat, images, titles, colors, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(text, fontsize=8, color=color)
    fig.suptitle(title)
    return fig, axes


def _as_images(X, image_shape):
    X = np.asarray(X)
    if X.ndim == 2 and image_shape is not None:
        X = X.reshape(len(X), *image_shape)
    return X


def plot_misclassified(
    images, y_true, y_pred, *, max_images=25, n_cols=5, image_shape=None
):
    """Show test images the model got wrong, with their true and predicted labels.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (n_samples, n_pixels)
        The images.

    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.

    max_images : int, default=25
        How many of the misclassified images to show (the first ones).

    n_cols : int, default=5
        Images per row.

    image_shape : tuple of int, default=None
        ``(height, width)`` of flat rows.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of matplotlib Axes
        One per grid cell; the cells beyond the images are switched off.
    """
    images = _as_images(images, image_shape)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)
    shown = wrong[:max_images]
    titles = [f"true {y_true[i]}\npredicted {y_pred[i]}" for i in shown]
    return _digit_grid(
        images[shown],
        titles,
        ["tab:red"] * len(shown),
        n_cols,
        f"Misclassified: {len(wrong)} of {len(y_true)} (first {len(shown)} shown)",
    )


def plot_sample_predictions(
    images, proba, classes, *, y_true=None, n_images=20, n_cols=5, image_shape=None
):
    """Show images with the predicted class and its probability.

    Parameters
    ----------
    images : array-like of shape (n_samples, height, width) or (n_samples, n_pixels)
        The images.

    proba : array-like of shape (n_samples, n_classes)
        The model's ``predict_proba`` of the images.

    classes : array-like of shape (n_classes,)
        The model's ``classes_``, the columns of `proba`.

    y_true : array-like of shape (n_samples,), default=None
        True labels; wrong predictions are then titled in red.

    n_images : int, default=20
        How many images to show (the first ones).

    n_cols : int, default=5
        Images per row.

    image_shape : tuple of int, default=None
        ``(height, width)`` of flat rows.

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of matplotlib Axes
    """
    images = _as_images(images, image_shape)[:n_images]
    proba = np.asarray(proba)[:n_images]
    classes = np.asarray(classes)
    best = proba.argmax(axis=1)
    titles = [f"{classes[k]} ({p[k]:.2f})" for k, p in zip(best, proba, strict=True)]
    if y_true is None:
        colors = ["black"] * len(best)
    else:
        right = classes[best] == np.asarray(y_true)[: len(best)]
        colors = ["tab:green" if r else "tab:red" for r in right]
    return _digit_grid(
        images, titles, colors, n_cols, "Predictions (class and probability)"
    )


def plot_search_heatmap(
    cv_results,
    *,
    x=EPOCHS_COLUMN,
    y=HIDDEN_LAYER_SIZES_COLUMN,
    ax=None,
):
    """Plot the mean cross-validated score over two searched parameters.

    Parameters
    ----------
    cv_results : dict or pandas.DataFrame
        A search's ``cv_results_`` (or the CSV/JSON that ``skmnist search``
        writes, loaded), with ``mean_test_score`` and the two parameter
        columns.

    x, y : str, default="param_mlp__epochs", "param_mlp__hidden_layer_sizes"
        The parameter columns for the horizontal and vertical axes. When
        several candidates share a cell (other parameters varied too), the
        best score is shown. At most :data:`MAX_HEATMAP_VALUES` values of
        each are drawn, those of the best candidates; the axis label then
        says how many there were. Candidates without a finite score (their
        fits failed) leave their cell empty.

    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
        The heatmap, each cell annotated with its score.
    """
    scores = np.asarray(cv_results["mean_test_score"], dtype=float)
    scores[~np.isfinite(scores)] = np.nan  # failed candidates (and infinities)
    xs = [_label(v) for v in cv_results[x]]
    ys = [_label(v) for v in cv_results[y]]
    if not len(xs) == len(ys) == len(scores):
        raise ValueError(
            f"the columns {x!r}, {y!r} and 'mean_test_score' have different "
            f"lengths: {len(xs)}, {len(ys)} and {len(scores)}"
        )
    # Best first (failed candidates last): the values drawn are those of the
    # best candidates, MAX_HEATMAP_VALUES of each at most.
    order = np.argsort(np.where(np.isnan(scores), np.inf, -scores), kind="stable")
    x_shown, x_all = _best_values(xs, order)
    y_shown, y_all = _best_values(ys, order)
    x_values = sorted(x_shown, key=_natural)
    y_values = sorted(y_shown, key=_natural)
    column = {value: j for j, value in enumerate(x_values)}
    row = {value: i for i, value in enumerate(y_values)}
    grid = np.full((len(y_values), len(x_values)), np.nan)
    for xv, yv, score in zip(xs, ys, scores, strict=True):
        if xv in column and yv in row and not np.isnan(score):
            i, j = row[yv], column[xv]
            grid[i, j] = score if np.isnan(grid[i, j]) else max(grid[i, j], score)
    fig, ax = _axes_or_new(ax, (1.2 * len(x_values) + 3, 0.6 * len(y_values) + 2))
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if not np.isnan(value):
            ax.text(j, i, f"{value:.4f}", ha="center", va="center", color="white")
    ax.set_xticks(range(len(x_values)), [_shortened(v) for v in x_values])
    ax.set_yticks(range(len(y_values)), [_shortened(v) for v in y_values])
    ax.set_xlabel(_axis_label(x, len(x_values), x_all))
    ax.set_ylabel(_axis_label(y, len(y_values), y_all))
    ax.set_title("Mean cross-validated accuracy")
    fig.colorbar(image, ax=ax)
    return ax


#: The most values of one parameter :func:`plot_search_heatmap` draws.
MAX_HEATMAP_VALUES = 20
_MAX_LABEL_CHARS = 24


def _best_values(labels, order):
    """The first :data:`MAX_HEATMAP_VALUES` distinct labels in ``order``, and the count."""
    shown = {}
    for k in order:
        if len(shown) == MAX_HEATMAP_VALUES:
            break
        shown.setdefault(labels[k], None)
    return list(shown), len(set(labels))


def _axis_label(column, n_shown, n_all):
    name = column.removeprefix("param_")
    if n_shown == n_all:
        return name
    return f"{name} (the {n_shown} of the best candidates, of {n_all:,} values)"


def _shortened(label):
    if len(label) <= _MAX_LABEL_CHARS:
        return label
    return f"{label[: _MAX_LABEL_CHARS - 3]}..."


def _label(value):
    """A parameter value as a tick label: ``(32, 64)`` as ``32,64``."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def _natural(text):
    """Sort key: numbers by value, tuples such as '(32, 64)' by their numbers."""
    numbers = [float(part) for part in re.findall(r"-?\d+(?:\.\d+)?", text)]
    return (numbers, text) if numbers else ([math.inf], text)
