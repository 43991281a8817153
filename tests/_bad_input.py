"""Bad input: the tables shared by the module files, and the call that feeds them.

Every case names where the bad input goes in, what it is, the exception
expected and words its message must contain. Each module's test file runs
the cases of its own entry points: the flattener's in test_preprocessing,
the classifier's in test_classifier and test_targets, the pipeline's in
test_pipeline. The fitted estimators come from the ``bad_input_data`` and
``bad_input_fitted`` fixtures of ``conftest.py``.
"""

import numpy as np

from skmnist import ImageFlattener, KerasMLPClassifier, make_mnist_pipeline

N_BAD_INPUT = 120  # digits used to fit


class Fitted(dict):
    """The fitted flattener, classifier and pipeline, each fitted on first use."""

    def __init__(self, data):
        super().__init__()
        self._data = data

    def __missing__(self, owner):
        images, rows, y = self._data
        self[owner] = {
            "flattener": lambda: ImageFlattener().fit(images),
            "classifier": lambda: KerasMLPClassifier(epochs=1, random_state=0).fit(
                rows, y
            ),
            "pipeline": lambda: make_mnist_pipeline(epochs=1, random_state=0).fit(
                images, y
            ),
        }[owner]()
        return self[owner]


def _set(value):
    def make(X):
        X = X.astype(object) if isinstance(value, str) else X.copy()
        X.flat[5] = value
        return X

    return make


# Bad X, for every entry point: (case, make bad X from good X, error, message)
BAD_X = [
    ("NaN pixel", _set(np.nan), ValueError, "Input X contains NaN"),
    ("inf pixel", _set(np.inf), ValueError, "Input X contains infinity"),
    ("strings", lambda X: X.astype(str), ValueError, "string"),
    ("complex", lambda X: X + 1j, ValueError, "Complex data not supported"),
    (
        "object with text",
        _set("ink"),
        ValueError,
        "could not convert string to float: 'ink'",
    ),
    ("ragged list", lambda X: [[1.0, 2.0], [3.0]], ValueError, "inhomogeneous"),
    ("empty", lambda X: X[:0], ValueError, "0 sample"),
    ("1-D", lambda X: X.ravel()[:64], ValueError, "Expected 2D array, got 1D"),
    ("None", lambda X: None, ValueError, "Expected 2D array"),
    ("scalar", lambda X: 7.0, ValueError, "Expected 2D array"),
]
BAD_X_IDS = [case[0] for case in BAD_X]

# Pixels out of range: the flattener's concern (the classifier takes any reals).
BAD_PIXELS = [
    ("negative pixel", _set(-3.0), "Negative values in data passed to ImageFlattener"),
    ("pixel above 255", _set(300.0), "Pixel values up to 300.*Set max_value"),
]
BAD_PIXELS_IDS = [case[0] for case in BAD_PIXELS]

_LABELS = object()


def call_entry_point(fitted, data, owner, method, X, y=_LABELS):
    """Call ``owner.method`` on X: ``fit`` on a new estimator, else the fitted one."""
    images, rows, labels = data
    y = labels[: _len(X)] if y is _LABELS else y
    if method == "fit":
        est = {
            "flattener": ImageFlattener(),
            "classifier": KerasMLPClassifier(epochs=1),
            "pipeline": make_mnist_pipeline(epochs=1),
        }[owner]
        return est.fit(X) if owner == "flattener" else est.fit(X, y)
    est = fitted[owner]
    return est.transform(X) if owner == "flattener" else est.predict(X)


def _len(X):
    try:
        return len(X)
    except TypeError:
        return N_BAD_INPUT
