"""Bad input gets a clear error: a table of cases, and property-based tests.

Every case names where the bad input goes in, what it is, the exception
expected and words its message must contain. The property-based tests feed
random bytes and random arrays and accept only the documented exceptions.
"""

import gzip
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import NotFittedError

import skmnist
from skmnist import ImageFlattener, KerasMLPClassifier, fetch_mnist, make_mnist_pipeline
from skmnist.datasets import _parse_idx

from .conftest import MNIST_FILES

N = 120  # digits used to fit


@pytest.fixture(scope="module")
def data(digits):
    images, y = digits
    images, y = images[:N].astype(np.float64), y[:N]
    return images, images.reshape(N, -1) / 16, y


@pytest.fixture(scope="module")
def fitted(data):
    images, rows, y = data
    return {
        "flattener": ImageFlattener().fit(images),
        "classifier": KerasMLPClassifier(epochs=1, random_state=0).fit(rows, y),
        "pipeline": make_mnist_pipeline(epochs=1, random_state=0).fit(images, y),
    }


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
# Pixels out of range: the flattener's concern (the classifier takes any reals).
BAD_PIXELS = [
    ("negative pixel", _set(-3.0), "Negative values in data passed to ImageFlattener"),
    ("pixel above 255", _set(300.0), "Pixel values up to 300.*Set max_value"),
]
ENTRY_POINTS = [
    ("flattener", "fit"),
    ("flattener", "transform"),
    ("pipeline", "fit"),
    ("pipeline", "predict"),
    ("classifier", "fit"),
    ("classifier", "predict"),
]


_LABELS = object()


def _call(fitted, data, owner, method, X, y=_LABELS):
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
        return N


@pytest.mark.parametrize("owner, method", ENTRY_POINTS)
@pytest.mark.parametrize("case, make, error, message", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X(fitted, data, owner, method, case, make, error, message):
    images, rows, _ = data
    X = make(rows if owner == "classifier" else images)
    with pytest.raises(error, match=message):
        _call(fitted, data, owner, method, X)


@pytest.mark.parametrize("owner, method", ENTRY_POINTS[:4])
@pytest.mark.parametrize(
    "case, make, message", BAD_PIXELS, ids=[c[0] for c in BAD_PIXELS]
)
def test_pixels_out_of_range(fitted, data, owner, method, case, make, message):
    with pytest.raises(ValueError, match=message):
        _call(fitted, data, owner, method, make(data[0]))


@pytest.mark.parametrize(
    "owner, X, message",
    [
        ("flattener", np.zeros((3, 28, 28)), "fitted on 8x8 images, got 28x28"),
        ("pipeline", np.zeros((3, 5, 5)), "fitted on 8x8 images, got 5x5"),
        (
            "classifier",
            np.zeros((3, 10)),
            "X has 10 features, but KerasMLPClassifier is expecting 64",
        ),
    ],
)
def test_other_size_at_predict_than_at_fit(fitted, owner, X, message):
    est = fitted[owner]
    with pytest.raises(ValueError, match=message):
        est.transform(X) if owner == "flattener" else est.predict(X)


# Bad y at fit: (case, make bad y from good y, message)
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


@pytest.mark.parametrize("owner", ["classifier", "pipeline"])
@pytest.mark.parametrize("case, make, message", BAD_Y, ids=[c[0] for c in BAD_Y])
def test_bad_y(fitted, data, owner, case, make, message):
    images, rows, y = data
    X = rows if owner == "classifier" else images
    with pytest.raises(ValueError, match=message):
        _call(fitted, data, owner, "fit", X, make(y))


# Hyperparameters, checked at fit: (params, message)
BAD_PARAMS = [
    (
        {"hidden_layer_sizes": (0,)},
        r"'hidden_layer_sizes' parameter .* sequence of ints >= 1\. Got \(0,\)",
    ),
    ({"hidden_layer_sizes": "32,64"}, r"'hidden_layer_sizes' parameter .* Got '32,64'"),
    (
        {"hidden_layer_sizes": (32, 2.5)},
        r"'hidden_layer_sizes' parameter .* Got \(32, 2.5\)",
    ),
    ({"epochs": -1}, r"'epochs' parameter .* int in the range \[1, inf\)\. Got -1"),
    ({"epochs": 2.5}, r"'epochs' parameter .* Got 2.5"),
    (
        {"batch_size": 0},
        r"'batch_size' parameter .*'auto'.* int in the range \[1, inf\)\. Got 0",
    ),
    (
        {"activation": "swishy"},
        r"'activation' parameter .* \['identity', 'logistic', 'relu', 'tanh'\].*Got 'swishy'",
    ),
    (
        {"solver": "lbfgs"},
        r"'solver' parameter .* \{'adam', 'sgd'\}|'solver' parameter .* \{'sgd', 'adam'\}",
    ),
    ({"alpha": -1.0}, r"'alpha' parameter .* range \[0(\.0)?, inf\)\. Got -1.0"),
    ({"learning_rate": "fast"}, r"'learning_rate' parameter .* Got 'fast'"),
    (
        {"learning_rate_init": 0.0},
        r"'learning_rate_init' parameter .* range \(0(\.0)?, inf\)\. Got 0.0",
    ),
    ({"dropout": 1.0}, r"'dropout' parameter .* range \[0(\.0)?, 1(\.0)?\)\. Got 1.0"),
    ({"momentum": 2}, r"'momentum' parameter .* Got 2"),
    ({"validation_fraction": 0.0}, r"'validation_fraction' parameter .* Got 0.0"),
    ({"early_stopping": "yes"}, r"'early_stopping' parameter .* Got 'yes'"),
    ({"n_iter_no_change": 0}, r"'n_iter_no_change' parameter .* Got 0"),
    ({"tol": -1.0}, r"'tol' parameter .* Got -1.0"),
    ({"class_weight": "uniform"}, r"'class_weight' parameter .* Got 'uniform'"),
    (
        {"optimizer": "no-such-optimizer"},
        r"'optimizer' parameter .* name of a Keras optimizer",
    ),
    ({"modle__units": 3}, r"unknown parameter.*'modle__units'.*fit__"),
]


@pytest.mark.parametrize(
    "params, message",
    BAD_PARAMS,
    ids=[next(iter(p[0])) + "=" + repr(next(iter(p[0].values()))) for p in BAD_PARAMS],
)
def test_bad_hyperparameters_are_refused_at_fit(data, params, message):
    _, rows, y = data
    clf = KerasMLPClassifier(**params)  # __init__ only stores them
    with pytest.raises((ValueError, TypeError), match=message):
        clf.fit(rows, y)
    pipe = make_mnist_pipeline(**params)
    with pytest.raises((ValueError, TypeError), match=message):
        pipe.fit(data[0], y)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@pytest.mark.parametrize("owner", ["classifier", "pipeline"])
def test_use_before_fit(data, owner, method):
    images, rows, y = data
    est = KerasMLPClassifier() if owner == "classifier" else make_mnist_pipeline()
    X = rows if owner == "classifier" else images
    args = (X, y) if method == "score" else (X,)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(est, method)(*args)


def test_transform_before_fit(data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ImageFlattener().transform(data[0])


# The loader: (case, bytes of the decompressed file or None for a raw file, message)
def _gz(payload):
    return gzip.compress(payload)


LOADER_CASES = [
    ("random bytes, not gzip", b"not a gzip file at all", "not a complete gzip file"),
    ("truncated gzip", None, "not a complete gzip file"),
    (
        "wrong IDX magic",
        _gz(b"\x00\x00\x08\x09" + bytes(100)),
        "SHA-256 of its decompressed bytes is",
    ),
    ("empty file", b"", "not a complete gzip file|SHA-256"),
]


@pytest.mark.parametrize(
    "case, content, message", LOADER_CASES, ids=[c[0] for c in LOADER_CASES]
)
def test_corrupt_files_are_reported(mnist_home, tmp_path, case, content, message):
    labels = MNIST_FILES[3]
    (tmp_path / MNIST_FILES[2]).write_bytes((mnist_home / MNIST_FILES[2]).read_bytes())
    if content is None:
        content = (mnist_home / labels).read_bytes()[:1000]
    (tmp_path / labels).write_bytes(content)
    with pytest.raises(OSError, match=message) as info:
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert labels in str(info.value)


def test_a_directory_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("no digits here")
    (tmp_path / "train-images.csv").write_text("1,2,3")
    with pytest.raises(
        FileNotFoundError, match="MNIST files not found: t10k-images"
    ) as info:
        fetch_mnist("test", data_home=tmp_path, download_if_missing=False)
    assert str(tmp_path) in str(info.value) and "SKMNIST_DATA" in str(info.value)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"\x00\x00", "too short for an IDX header"),
        (b"\x00\x00\x0d\x01" + bytes(8), "bad IDX magic number 0x00000d01"),
        (
            b"\x00\x00\x08\x01\x00\x00\x00\x05abc",
            r"announces shape \(5,\) \(5 bytes\) but the file holds 3",
        ),
    ],
)
def test_idx_parser_names_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        _parse_idx(data, "file", 1)


# -- properties -------------------------------------------------------------------

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(st.binary(max_size=200), st.integers(1, 3))
def test_random_bytes_in_the_idx_parser(data, ndim):
    try:
        array = _parse_idx(data, "file", ndim)
    except ValueError:
        return
    assert array.ndim == ndim and array.dtype == np.uint8


@PROPERTY
@given(st.binary(max_size=300))
def test_random_bytes_as_a_model_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("model") / "random.skmnist"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="Cannot load .* as an skmnist model"):
        skmnist.load(path)


_ARRAYS = hnp.arrays(
    dtype=st.one_of(
        hnp.integer_dtypes(),
        hnp.floating_dtypes(),
        hnp.boolean_dtypes(),
        hnp.complex_number_dtypes(),
        hnp.unicode_string_dtypes(max_len=3),
    ),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)


@PROPERTY
@given(_ARRAYS)
def test_random_arrays_into_the_flattener(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = ImageFlattener().fit_transform(X)
        except (ValueError, TypeError):
            return
    assert out.dtype == np.float32 and out.ndim == 2 and len(out) == len(X)
    assert np.all((out >= 0) & (out <= 1))


@PROPERTY
@given(data=_ARRAYS)
def test_random_arrays_into_a_fitted_pipeline(fitted, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            predicted = fitted["pipeline"].predict(data)
        except (ValueError, TypeError):
            return
    assert len(predicted) == len(data) and set(predicted) <= set(range(10))
