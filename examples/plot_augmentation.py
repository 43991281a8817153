"""
===============================================
Past 99%: training on randomly moved digits
===============================================

A multi-layer perceptron sees each image as a row of pixels, so a digit
moved by a pixel or tilted by a few degrees is, to it, a different row. Show
it such moved digits while it trains, a new draw for every batch of every
epoch, and it learns that they are the same digit.
:class:`~skmnist.ImageAugmentation` describes the moves (rotation in
degrees, shift in pixels, zoom as a fraction) and the classifier applies them
to its training batches only. This example draws a few augmented digits
beside the originals, then trains the same network with and without
augmentation and scores both on the test images.

Set ``SKMNIST_EXAMPLE_SMALL=1`` to run it on a small slice in seconds.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import time
import warnings

import matplotlib.pyplot as plt
from sklearn.exceptions import ConvergenceWarning

from skmnist import ImageAugmentation, fetch_mnist, make_mnist_pipeline

small = os.environ.get("SKMNIST_EXAMPLE_SMALL") == "1"
# The networks train for a set number of epochs and stop with the loss still
# falling, which scikit-learn's ConvergenceWarning reports at every fit; as in
# scikit-learn's own gallery, the example leaves it out of its output.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# The data
# --------
X_train, y_train = fetch_mnist("train", return_X_y=True)
X_test, y_test = fetch_mnist("test", return_X_y=True)
if small:
    X_train, y_train, X_test, y_test = (
        X_train[:3000],
        y_train[:3000],
        X_test[:1000],
        y_test[:1000],
    )
print(f"{len(X_train)} training images, {len(X_test)} test images")

# %%
# What the network sees
# ---------------------
# The defaults of :class:`~skmnist.ImageAugmentation` turn each digit by up
# to 10 degrees, shift it by up to 2 pixels along each side and zoom it by
# up to a tenth. :meth:`~skmnist.ImageAugmentation.augment` moves a few images
# once, as a training batch is moved: the top row holds the originals, each
# row below a new draw.
augmentation = ImageAugmentation()
originals = X_train[:8] / 255
draws = [augmentation.augment(originals, random_state=seed) for seed in range(3)]

fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
for row, (images, label) in enumerate(
    zip([originals, *draws], ["original", "draw 1", "draw 2", "draw 3"], strict=True)
):
    for ax, image in zip(axes[row], images, strict=True):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[row, 0].set_ylabel(label)
fig.suptitle("MNIST digits and three random draws of ImageAugmentation()")
fig.tight_layout()

# %%
# With and without augmentation
# -----------------------------
# The network of ``skmnist train --preset best``: two hidden layers of 512
# and 256 ReLU units, batches of 128, Adam (the preset also halves its
# learning rate every 7 epochs, with a Keras callback). Only the training
# batches are moved: the test images are scored as they are.
epochs = 3 if small else 15


def fit_and_score(augmentation):
    pipeline = make_mnist_pipeline(
        hidden_layer_sizes=(512, 256),
        batch_size=128,
        epochs=epochs,
        augmentation=augmentation,
        random_state=0,
    )
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
    fit_time = time.perf_counter() - start
    return pipeline.score(X_test, y_test), fit_time


for name, setting in (("without augmentation", None), ("augmented", augmentation)):
    accuracy, fit_time = fit_and_score(setting)
    print(
        f"{name}: test accuracy {accuracy:.4f} after {epochs} epochs, "
        f"fit in {fit_time:.0f} s"
    )

# %%
# Augmentation makes each epoch's task harder, so it pays over more epochs
# than a network on the plain images needs; on a small slice and a few
# epochs it may not pay at all. The user guide's :ref:`augmentation` page
# shows the whole recipe's accuracy and fit time on the full data, as
# recorded by the benchmarks, beside scikit-learn's ``MLPClassifier`` of the
# same shape.
plt.show()
