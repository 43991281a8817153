"""
==================================================
Grid search over epochs and widths, as a heatmap
==================================================

How many epochs, and how wide a network? :class:`~sklearn.model_selection.GridSearchCV`
tries every combination with 3-fold cross-validation on the training images;
the pipeline's parameters are reached as ``mlp__epochs`` and
``mlp__hidden_layer_sizes``. The heatmap shows the mean validation accuracy of
each cell.

Set ``SKMNIST_EXAMPLE_SMALL=1`` to run it on a small slice in seconds.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmnist import fetch_mnist, make_mnist_pipeline
from skmnist.plotting import plot_search_heatmap

small = os.environ.get("SKMNIST_EXAMPLE_SMALL") == "1"
# The networks train for a set number of epochs and stop with the loss still
# falling, which scikit-learn's ConvergenceWarning reports at every fit; as in
# scikit-learn's own gallery, the example leaves it out of its output.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = fetch_mnist("train", return_X_y=True)
X_test, y_test = fetch_mnist("test", return_X_y=True)
X, y = (X[:2000], y[:2000]) if small else (X[:20000], y[:20000])

# %%
# The search
# ----------
# Four widths and three epoch counts: 12 candidates, 36 fits. ``n_jobs=2``
# trains two at a time; skmnist gives each worker's TensorFlow its share of
# the cores.
grid = {
    "mlp__epochs": [1, 2] if small else [5, 10, 20],
    "mlp__hidden_layer_sizes": [(16,), (32, 64)]
    if small
    else [(16,), (32, 64), (128,), (256, 128)],
}
# (The small run stays in one process: starting workers would take longer.)
search = GridSearchCV(
    make_mnist_pipeline(random_state=0),
    grid,
    cv=2 if small else 3,
    n_jobs=1 if small else 2,
)
search.fit(X, y)
print(f"best: {search.best_params_}, mean CV accuracy {search.best_score_:.4f}")
print(f"test accuracy of the refitted best: {search.score(X_test, y_test):.4f}")

# %%
# The heatmap
# -----------
# Wider networks gain more from more epochs; the thinnest one saturates early.
plot_search_heatmap(search.cv_results_)
plt.show()
