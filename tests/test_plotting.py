"""The figure functions draw what they say: panels, labels and values."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import ConfusionMatrixDisplay  # noqa: E402

from skmnist import plotting  # noqa: E402

from ._measure import measure_python  # noqa: E402


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


# -- results of any size, drawn within bounds -------------------------------------


def test_search_heatmap_skips_candidates_without_a_finite_score():
    results = {
        "mean_test_score": [0.91, np.nan, np.inf, -np.inf, 0.97],
        "param_mlp__epochs": [5, 10, 5, 10, 20],
        "param_mlp__hidden_layer_sizes": [(16,), (16,), (32,), (32,), (32,)],
    }
    ax = plotting.plot_search_heatmap(results)
    assert sorted(t.get_text() for t in ax.texts) == ["0.9100", "0.9700"]
    # only the finite scores are drawn: the other four cells are empty
    assert np.ma.count_masked(ax.images[0].get_array()) == 4
    assert ax.images[0].get_clim() == (0.91, 0.97)


_HEATMAP_OF_A_FILE = """
import sys
import matplotlib
matplotlib.use("Agg")
from skmnist import plotting
from skmnist._search_results import read_results
ax = plotting.plot_search_heatmap(read_results(sys.argv[1]))
ax.figure.savefig(sys.argv[2], dpi=110)
print(len(ax.get_xticklabels()), len(ax.get_yticklabels()), len(ax.texts))
print(ax.get_xlabel())
print(ax.get_ylabel())
"""


def test_search_heatmap_of_20000_candidates_within_bounds(tmp_path):
    # Every candidate its own epochs and widths: 0.x drew a grid of every
    # pair of values (20,000 x 20,000 floats, 3.2 GB) and failed or swapped.
    from skmnist._search_results import write_results

    n = 20_000
    rows = [
        {
            "rank": i + 1,
            "mean_test_score": 0.99 - i * 1e-6,
            "std_test_score": 0.001,
            "mean_fit_time": 1.0,
            "param_mlp__epochs": i + 1,
            "param_mlp__hidden_layer_sizes": [i + 1, 64],
        }
        for i in range(n)
    ]
    results = tmp_path / "results.csv"
    write_results(rows, results)
    png = tmp_path / "heatmap.png"
    run = measure_python(
        _HEATMAP_OF_A_FILE, args=[results, png], timeout=300, limit_mb=2048
    )
    assert run.returncode == 0, run.stderr[-2000:]
    ticks_x, ticks_y, texts = map(int, run.stdout.split("\n")[0].split())
    assert (ticks_x, ticks_y) == (20, 20)
    assert texts == 20  # the best 20 candidates, each on its own row and column
    x_label, y_label = run.stdout.split("\n")[1:3]
    assert "the 20 of the best candidates, of 20,000 values" in x_label
    assert "of the best candidates, of 20,000 values" in y_label
    # drawing a 20 x 20 heatmap itself takes about 200 MB
    assert run.peak_mb < 350, f"{run.peak_mb:.0f} MB"
    width, height = plt.imread(png).shape[1::-1]
    assert width * height < 30_000_000
