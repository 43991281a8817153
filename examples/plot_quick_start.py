"""
==========================================
Quick start: the seed network on MNIST
==========================================

Fit the classic Keras MNIST network (two hidden layers of 32 and 64 ReLU
units, Adam, 10 epochs of batches of 100) behind an image flattener, score it
on the 10,000 test images, and look at where it goes wrong with a confusion
matrix.

Set ``SKMNIST_EXAMPLE_SMALL=1`` to run it on a small slice in seconds.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from skmnist import fetch_mnist, make_mnist_pipeline
from skmnist.plotting import plot_confusion_matrix, plot_learning_curves

small = os.environ.get("SKMNIST_EXAMPLE_SMALL") == "1"
# The networks train for a set number of epochs and stop with the loss still
# falling, which scikit-learn's ConvergenceWarning reports at every fit; as in
# scikit-learn's own gallery, the example leaves it out of its output.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Load the digits
# ---------------
# ``fetch_mnist`` reads the four original files (found through
# ``SKMNIST_DATA``, else in the data home, where they are downloaded once
# when missing) and returns images of shape (n, 28, 28).
X_train, y_train = fetch_mnist("train", return_X_y=True)
X_test, y_test = fetch_mnist("test", return_X_y=True)
if small:
    X_train, y_train, X_test, y_test = (
        X_train[:3000],
        y_train[:3000],
        X_test[:1000],
        y_test[:1000],
    )
print(f"{len(X_train)} training images of shape {X_train.shape[1:]}")

# %%
# Fit and score
# -------------
# The pipeline flattens and scales the images, then trains the network; it is
# an ordinary scikit-learn estimator.
pipeline = make_mnist_pipeline(random_state=0, validation_split=0.1)
pipeline.fit(X_train, y_train)
accuracy = pipeline.score(X_test, y_test)
print(f"test accuracy: {accuracy:.4f}")

# %%
# Where it goes wrong
# -------------------
# Rows are the true digits, columns the predicted ones: the off-diagonal cells
# are the mistakes, such as 4s read as 9s.
display = plot_confusion_matrix(y_test, pipeline.predict(X_test))

# %%
# How it learned
# --------------
# Loss and accuracy per epoch on the training images and on the tenth held
# out for validation.
plot_learning_curves(pipeline.named_steps["mlp"].history_)
plt.show()
