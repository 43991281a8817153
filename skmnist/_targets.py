"""Class labels: what a classifier accepts as ``y``, and their integer codes."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d


def check_target(y, estimator_name):
    """``y`` as a 1-D array of class labels, and its scikit-learn target type.

    Raises a ValueError that says what to pass instead for one-hot, multilabel,
    continuous and other targets that are not one class label per sample.
    """
    target_type = type_of_target(y, input_name="y")
    if target_type == "multilabel-indicator" and np.all(np.asarray(y).sum(axis=1) == 1):
        raise ValueError(
            f"{estimator_name} takes one label per sample; y looks one-hot "
            "encoded. Pass the labels instead, for example y.argmax(axis=1)."
        )
    if target_type == "unknown":
        raise ValueError(
            f"Unknown label type: {estimator_name} needs one class label per "
            "sample (ints, strings or bools in a 1-D y); got values of type "
            f"{np.asarray(y).dtype} that are not labels."
        )
    if target_type not in ("binary", "multiclass"):
        raise ValueError(
            f"{estimator_name} supports binary and multiclass targets (one "
            f"class label per sample); got a {target_type!r} target. For "
            "multilabel targets wrap it in sklearn.multioutput.MultiOutputClassifier; "
            "for continuous targets use a regressor."
        )
    return column_or_1d(y, warn=True), target_type


class LabelEncoder(BaseEstimator):
    """Map class labels to the integers 0..n_classes-1 and back.

    The scikeras target encoder protocol: ``fit``, ``transform``,
    ``inverse_transform(y, return_proba=False)`` and ``get_metadata``.

    Parameters
    ----------
    classes : array-like or None
        Every class, when known in advance (``partial_fit``); else the
        classes are those of the ``y`` passed to :meth:`fit`.
    estimator_name : str
        Names the estimator in error messages.
    """

    def __init__(self, classes=None, estimator_name="KerasMLPClassifier"):
        self.classes = classes
        self.estimator_name = estimator_name

    def fit(self, y):
        classes = unique_labels(y if self.classes is None else self.classes)
        if len(classes) < 2:
            raise ValueError(
                f"{self.estimator_name} needs samples of at least 2 classes, but the "
                f"data contains only one class: {classes[0]}."
            )
        self.classes_ = classes
        return self

    def transform(self, y):
        y = np.asarray(y)
        codes = np.searchsorted(self.classes_, y)
        codes = np.clip(codes, 0, len(self.classes_) - 1)
        unseen = self.classes_[codes] != y
        if np.any(unseen):
            labels = np.unique(y[unseen])[:5].tolist()
            raise ValueError(
                f"y contains labels {labels} that are not among the classes "
                f"{self.classes_.tolist()}; pass every class to the first "
                "partial_fit call through `classes`."
            )
        return codes.astype(np.int32)

    def inverse_transform(self, y, return_proba=False):
        if return_proba:
            return y
        return self.classes_[np.argmax(y, axis=1)]

    def get_metadata(self):
        return {
            "classes_": self.classes_,
            "n_classes_": len(self.classes_),
            "n_outputs_": len(self.classes_),
            "n_outputs_expected_": 1,
        }
