"""
=========================================
Cross-validating the seed network
=========================================

:func:`~sklearn.model_selection.cross_val_score` fits the pipeline on five
stratified folds (stratified because skmnist's classifier is a classifier to
scikit-learn) and scores each on the fold it did not see. The spread of the
five scores says how much the accuracy depends on the split and the seed.

Set ``SKMNIST_EXAMPLE_SMALL=1`` to run it on a small slice in seconds.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score

from skmnist import fetch_mnist, make_mnist_pipeline

small = os.environ.get("SKMNIST_EXAMPLE_SMALL") == "1"
# The networks train for a set number of epochs and stop with the loss still
# falling, which scikit-learn's ConvergenceWarning reports at every fit; as in
# scikit-learn's own gallery, the example leaves it out of its output.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = fetch_mnist("train", return_X_y=True)
if small:
    X, y = X[:1000], y[:1000]

# %%
# Five folds
# ----------
scores = cross_val_score(make_mnist_pipeline(random_state=0), X, y, cv=5)
print(f"accuracy per fold: {', '.join(f'{s:.4f}' for s in scores)}")
print(f"mean {scores.mean():.4f}, standard deviation {scores.std():.4f}")

# %%
# The spread
# ----------
fig, ax = plt.subplots(layout="constrained")
ax.plot(range(1, 6), scores, "o-")
ax.axhline(scores.mean(), color="gray", linestyle="--", label="mean")
ax.set_xticks(range(1, 6))
ax.set_xlabel("fold")
ax.set_ylabel("accuracy")
ax.set_title("5-fold cross-validation")
ax.legend()
plt.show()
