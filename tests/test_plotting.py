"""The figure functions draw what they say: panels, labels and values."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from skmnist import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def predictions(digits):
    images, y = digits
    rng = np.random.default_rng(0)
    predicted = y.copy()
    wrong = rng.choice(len(y), 30, replace=False)
    predicted[wrong] = (y[wrong] + 1) % 10
    return images, y, predicted, wrong


def test_confusion_matrix_is_sklearns_display(predictions):
    _, y, predicted, wrong = predictions
    display = plotting.plot_confusion_matrix(y, predicted)
    assert isinstance(display, ConfusionMatrixDisplay)
    assert display.confusion_matrix.shape == (10, 10)
    assert np.trace(display.confusion_matrix) == len(y) - len(wrong)
    assert display.ax_.get_xlabel() == "Predicted label"
    assert display.ax_.get_ylabel() == "True label"


def test_per_class_accuracy_has_a_bar_per_class(predictions):
    _, y, predicted, _ = predictions
    ax = plotting.plot_per_class_accuracy(y, predicted)
    heights = [bar.get_height() for bar in ax.patches]
    expected = [np.mean(predicted[y == c] == c) for c in range(10)]
    np.testing.assert_allclose(heights, expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in range(10)]
    assert "overall" in ax.get_title()


def test_learning_curves_show_training_and_validation():
    history = {
        "loss": [0.5, 0.3, 0.2],
        "accuracy": [0.8, 0.9, 0.95],
        "val_loss": [0.4, 0.35, 0.3],
        "val_accuracy": [0.85, 0.88, 0.9],
    }
    axes = plotting.plot_learning_curves(history)
    assert len(axes) == 2
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        assert ax.get_ylabel() == metric and ax.get_xlabel() == "epoch"
        assert [line.get_label() for line in ax.get_lines()] == [
            "training",
            "validation",
        ]
        np.testing.assert_array_equal(
            ax.get_lines()[1].get_ydata(), history["val_" + metric]
        )
    only_training = plotting.plot_learning_curves(
        {"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]}
    )
    assert len(only_training[0].get_lines()) == 1


def test_misclassified_grid(predictions):
    images, y, predicted, wrong = predictions
    fig, axes = plotting.plot_misclassified(
        images, y, predicted, max_images=12, n_cols=4
    )
    assert axes.shape == (3, 4)
    shown = [ax for ax in axes.flat if ax.images]
    assert len(shown) == 12
    first = np.sort(wrong)[0]
    assert shown[0].get_title() == f"true {y[first]}\npredicted {predicted[first]}"
    assert "30 of 1797" in fig._suptitle.get_text()


def test_sample_predictions_grid(predictions):
    images, y, _, _ = predictions
    proba = np.full((len(y), 10), 0.01)
    proba[np.arange(len(y)), y] = 0.91
    fig, axes = plotting.plot_sample_predictions(
        images.reshape(len(y), -1),
        proba,
        np.arange(10),
        y_true=y,
        n_images=8,
        image_shape=(8, 8),
    )
    shown = [ax for ax in axes.flat if ax.images]
    assert len(shown) == 8
    assert shown[0].get_title() == f"{y[0]} (0.91)"
    assert shown[0].images[0].get_array().shape == (8, 8)


def test_search_heatmap_cells():
    results = {
        "mean_test_score": [0.91, 0.93, 0.95, 0.97],
        "param_mlp__epochs": [5, 10, 5, 10],
        "param_mlp__hidden_layer_sizes": [(16,), (16,), (32, 64), (32, 64)],
    }
    ax = plotting.plot_search_heatmap(results)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["5", "10"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["16", "32,64"]
    assert sorted(t.get_text() for t in ax.texts) == [
        "0.9100",
        "0.9300",
        "0.9500",
        "0.9700",
    ]
    np.testing.assert_allclose(ax.images[0].get_array(), [[0.91, 0.93], [0.95, 0.97]])
