"""Labels: encoded for Keras, given back as they went in; bad targets refused."""

import numpy as np
import pytest
from sklearn.exceptions import DataConversionWarning

from skmnist import KerasMLPClassifier

from ._bad_input import call_entry_point

pytestmark = pytest.mark.jax


def fitted(X, y, **params):
    params = {"epochs": 20, "random_state": 0, **params}
    return KerasMLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(
            [
                "zero",
                "one",
                "two",
                "three",
                "four",
                "five",
                "six",
                "seven",
                "eight",
                "nine",
            ]
        ),
        np.array([3, 10, 11, 40, 41, 42, 97, 98, 99, 122]),
        np.array([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
    ],
    ids=["strings", "non-contiguous", "negative"],
)
def test_labels_come_back_as_they_went_in(digits_flat, labels):
    X, y = digits_flat
    y_named = labels[y]
    clf = fitted(X, y_named)
    assert clf.classes_.tolist() == sorted(labels.tolist())
    predicted = clf.predict(X)
    assert set(predicted) <= set(labels)
    assert np.mean(predicted == y_named) > 0.9
    proba = clf.predict_proba(X[:50])
    # columns follow classes_: the arg-max column is the predicted label
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], predicted[:50])


def test_binary_labels(digits_flat):
    X, y = digits_flat
    y_bool = y >= 5
    clf = fitted(X, y_bool)
    assert clf.classes_.tolist() == [False, True]
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.score(X, y_bool) > 0.85


def test_column_vector_y_is_warned_about_and_used(digits_flat):
    X, y = digits_flat
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        clf = fitted(X, y.reshape(-1, 1), epochs=1)
    assert clf.predict(X[:2]).shape == (2,)


# -- bad input: bad y at fit, through the classifier and the pipeline -------------

# (case, make bad y from good y, message)
BAD_Y = [
    (
        "X and y of different lengths",
        lambda y: y[:-1],
        "inconsistent numbers of samples|different numbers of samples",
    ),
    (
        "a single class",
        lambda y: np.full_like(y, 3),
        "at least 2 classes.*only one class: 3",
    ),
    ("y is None", lambda y: None, "requires y to be passed"),
    ("one-hot y", lambda y: np.eye(10)[y], "looks one-hot encoded.*argmax"),
    ("continuous y", lambda y: y + 0.5, "binary and multiclass targets.*'continuous'"),
    (
        "multilabel y",
        lambda y: np.stack([y % 2, y > 4], axis=1).astype(int),
        "'multilabel-indicator'.*MultiOutputClassifier",
    ),
    ("2-D y", lambda y: np.stack([y, y, y], axis=1), "'multiclass-multioutput'"),
    ("objects as y", lambda y: np.array([object()] * len(y)), "Unknown label type"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize("owner", ["classifier", "pipeline"])
@pytest.mark.parametrize("case, make, message", BAD_Y, ids=[c[0] for c in BAD_Y])
def test_bad_y(bad_input_fitted, bad_input_data, owner, case, make, message):
    images, rows, y = bad_input_data
    X = rows if owner == "classifier" else images
    with pytest.raises(ValueError, match=message):
        call_entry_point(bad_input_fitted, bad_input_data, owner, "fit", X, make(y))
