"""
==============================================================
A neural network and a linear model in one VotingClassifier
==============================================================

skmnist's classifier is a real scikit-learn classifier (``is_classifier`` is
True, ``predict_proba`` rows sum to one), so it joins ensembles like any
other. Here it votes with a logistic regression, each behind its own image
flattener; soft voting averages their probabilities.

Set ``SKMNIST_EXAMPLE_SMALL=1`` to run it on a small slice in seconds.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import warnings

import matplotlib.pyplot as plt
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmnist import ImageFlattener, fetch_mnist, make_mnist_pipeline

small = os.environ.get("SKMNIST_EXAMPLE_SMALL") == "1"
# The networks train for a set number of epochs and stop with the loss still
# falling, which scikit-learn's ConvergenceWarning reports at every fit; as in
# scikit-learn's own gallery, the example leaves it out of its output.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = fetch_mnist("train", return_X_y=True)
X_test, y_test = fetch_mnist("test", return_X_y=True)
n = 2000 if small else 20000
X, y, X_test, y_test = X[:n], y[:n], X_test[: n // 2], y_test[: n // 2]

# %%
# The members and the ensemble
# ----------------------------
members = [
    ("mlp", make_mnist_pipeline(random_state=0)),
    ("logistic", make_pipeline(ImageFlattener(), LogisticRegression(max_iter=200))),
]
ensemble = VotingClassifier(members, voting="soft").fit(X, y)

scores = {
    name: est.score(X_test, y_test) for name, est in ensemble.named_estimators_.items()
}
scores["soft vote"] = ensemble.score(X_test, y_test)
for name, score in scores.items():
    print(f"{name:>10}: test accuracy {score:.4f}")

# %%
# Compare
# -------
fig, ax = plt.subplots(layout="constrained")
bars = ax.bar(
    list(scores), list(scores.values()), color=["tab:blue", "tab:gray", "tab:green"]
)
ax.bar_label(bars, fmt="%.4f")
ax.set_ylim(min(scores.values()) - 0.05, 1)
ax.set_ylabel("test accuracy")
ax.set_title("Soft voting")
plt.show()
