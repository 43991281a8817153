"""skmnist inside scikit-learn's meta-estimators, searches and persistence."""

import pickle
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

import skmnist
from skmnist import ImageFlattener, KerasMLPClassifier, make_mnist_pipeline

FAST = {"epochs": 8, "learning_rate_init": 0.005, "random_state": 0}


def _estimator(kind):
    if kind == "classifier":
        return KerasMLPClassifier(**FAST)
    return make_mnist_pipeline(**FAST).set_params(flatten__max_value=16)


def _data(kind, digits, digits_flat):
    """Scaled rows for the classifier; raw 0..16 pixel rows for the pipeline."""
    if kind == "classifier":
        return digits_flat
    images, y = digits
    return images.reshape(len(images), -1), y


def _logistic(kind):
    if kind == "classifier":
        return LogisticRegression(max_iter=1000)
    return make_pipeline(
        ImageFlattener(max_value=16), LogisticRegression(max_iter=1000)
    )


KINDS = ["classifier", "pipeline"]


# The bare classifier in soft voting is test_classifier's
# test_soft_voting_with_logistic_regression.
@pytest.mark.parametrize(
    "kind, voting", [("classifier", "hard"), ("pipeline", "hard"), ("pipeline", "soft")]
)
def test_voting(kind, voting, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    ensemble = VotingClassifier(
        [("mlp", _estimator(kind)), ("lr", _logistic(kind))], voting=voting
    )
    ensemble.fit(X[:1400], y[:1400])
    assert ensemble.score(X[1400:], y[1400:]) > 0.88


@pytest.mark.parametrize("kind", KINDS)
def test_stacking(kind, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    stack = StackingClassifier(
        [("mlp", _estimator(kind)), ("lr", _logistic(kind))],
        final_estimator=LogisticRegression(max_iter=1000),
        cv=2,
    )
    stack.fit(X[:1400], y[:1400])
    assert stack.score(X[1400:], y[1400:]) > 0.88


@pytest.mark.parametrize("kind", KINDS)
def test_calibration(kind, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    calibrated = CalibratedClassifierCV(_estimator(kind), cv=3).fit(X[:1400], y[:1400])
    proba = calibrated.predict_proba(X[1400:])
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert calibrated.score(X[1400:], y[1400:]) > 0.85


@pytest.mark.parametrize("kind", KINDS)
def test_one_vs_rest(kind, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    three = y < 3
    ovr = OneVsRestClassifier(_estimator(kind)).fit(X[three], y[three])
    assert len(ovr.estimators_) == 3
    assert ovr.score(X[three], y[three]) > 0.9


@pytest.mark.parametrize("kind", KINDS)
def test_bagging(kind, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    bag = BaggingClassifier(_estimator(kind), n_estimators=3, random_state=0)
    bag.fit(X[:1400], y[:1400])
    assert bag.score(X[1400:], y[1400:]) > 0.85


# The bare classifier: test_classifier's test_cross_val_score_uses_stratified_folds.
@pytest.mark.parametrize("kind", ["pipeline"])
def test_cross_val_score(kind, digits, digits_flat):
    X, y = _data(kind, digits, digits_flat)
    estimator = _estimator(kind)
    assert is_classifier(estimator)
    scores = cross_val_score(estimator, X, y, cv=3)
    assert scores.min() > 0.85


# -- searches over epochs and widths ------------------------------------------------

GRID = {"mlp__epochs": [1, 6], "mlp__hidden_layer_sizes": [(4,), (32, 64)]}


def _search_data(digits):
    images, y = digits
    return images[:900], y[:900]


def _pipeline():
    return make_mnist_pipeline(
        batch_size=32, learning_rate_init=0.005, random_state=0
    ).set_params(flatten__max_value=16)


@pytest.fixture(scope="module")
def grid_n_jobs_1(digits):
    X, y = _search_data(digits)
    return GridSearchCV(_pipeline(), GRID, cv=2, n_jobs=1).fit(X, y)


@pytest.mark.slow
def test_grid_search(grid_n_jobs_1):
    search = grid_n_jobs_1
    assert search.best_params_ == {
        "mlp__epochs": 6,
        "mlp__hidden_layer_sizes": (32, 64),
    }
    assert search.best_score_ > 0.75  # 450 images a fold; 0.81 here
    assert search.best_estimator_.named_steps["mlp"].epochs == 6


@pytest.mark.slow
def test_grid_search_two_workers_matches_one(grid_n_jobs_1, digits):
    X, y = _search_data(digits)
    search = GridSearchCV(_pipeline(), GRID, cv=2, n_jobs=2).fit(X, y)
    assert search.best_params_ == grid_n_jobs_1.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"],
        grid_n_jobs_1.cv_results_["mean_test_score"],
        atol=0.02,
    )


@pytest.mark.slow
def test_randomized_search(digits):
    X, y = _search_data(digits)
    search = RandomizedSearchCV(
        _pipeline(), GRID, n_iter=3, cv=2, n_jobs=2, random_state=0
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert search.best_score_ > 0.5


@pytest.mark.slow
def test_halving_search_over_epochs(digits):
    X, y = _search_data(digits)
    search = HalvingGridSearchCV(
        _pipeline(),
        {"mlp__hidden_layer_sizes": [(2,), (8,), (16,), (32, 64)]},
        resource="mlp__epochs",
        min_resources=2,
        max_resources=8,
        factor=2,
        cv=2,
        n_jobs=2,
        random_state=0,
    ).fit(X, y)
    # every round trains longer and keeps the better half
    assert list(search.n_resources_) == [2, 4, 8]
    assert search.best_params_["mlp__epochs"] == 8
    assert search.best_params_["mlp__hidden_layer_sizes"] != (2,)


def _worker_threads():
    """Fit in a joblib worker; report TensorFlow's thread pool sizes."""
    import tensorflow as tf

    KerasMLPClassifier(epochs=1).fit(np.random.rand(20, 3), np.arange(20) % 2)
    return (
        tf.config.threading.get_intra_op_parallelism_threads(),
        tf.config.threading.get_inter_op_parallelism_threads(),
    )


def test_joblib_workers_bound_tensorflow_threads():
    budget = max(joblib.cpu_count() // 2, 1)
    results = joblib.Parallel(n_jobs=2)(
        joblib.delayed(_worker_threads)() for _ in range(2)
    )
    assert results == [(budget, budget)] * 2


# -- a fresh process ------------------------------------------------------------------

# One new process serves the reproducibility and the persistence tests below
# (TensorFlow starts once): it fits the seeded classifier first, as the first
# thing it does, then loads the pipeline saved here three ways.
FRESH_PROCESS = """
import pickle, sys, joblib, numpy as np, skmnist
from sklearn.datasets import load_digits
from skmnist import KerasMLPClassifier
directory = sys.argv[1]
X, y = load_digits(return_X_y=True)
proba = KerasMLPClassifier(epochs=3, random_state=7).fit(X / 16, y).predict_proba(X / 16)
np.save(f"{directory}/seeded.npy", proba)
images = np.load(f"{directory}/images.npy")
for how, load in [
    ("pickle", lambda path: pickle.loads(open(path, "rb").read())),
    ("joblib", joblib.load),
    ("skmnist", skmnist.load),
]:
    model = load(f"{directory}/model.{how}")
    np.save(f"{directory}/{how}.npy", model.predict_proba(images))
"""


@pytest.fixture(scope="module")
def fresh_process(mnist_train, mnist_test, tmp_path_factory):
    """A pipeline fitted here and saved three ways, then a new process's work.

    Returns ``(directory, pipeline, images)``. The new process wrote
    ``seeded.npy``, the probabilities on the digits of its own
    ``KerasMLPClassifier(epochs=3, random_state=7)``, and ``pickle.npy``,
    ``joblib.npy`` and ``skmnist.npy``, those of the pipeline it loaded from
    each file, on ``images``.
    """
    directory = tmp_path_factory.mktemp("fresh_process")
    X, y = mnist_train
    images = mnist_test[0][:500]
    pipe = make_mnist_pipeline(epochs=2, random_state=0).fit(X[:5000], y[:5000])
    (directory / "model.pickle").write_bytes(pickle.dumps(pipe))
    joblib.dump(pipe, directory / "model.joblib")
    skmnist.save(pipe, directory / "model.skmnist")
    np.save(directory / "images.npy", images)
    subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(directory)], check=True)
    return directory, pipe, images


# -- reproducibility ----------------------------------------------------------------


@pytest.mark.slow
def test_same_random_state_same_model_everywhere(digits_flat, fresh_process):
    X, y = digits_flat
    X = X.astype(np.float64)
    clf = KerasMLPClassifier(epochs=3, random_state=7)
    first = clf.fit(X, y).predict_proba(X)
    second = clf.fit(X, y).predict_proba(X)  # a second fit of the same estimator
    np.testing.assert_array_equal(first, second)
    other = KerasMLPClassifier(epochs=3, random_state=7).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, other)

    directory, _, _ = fresh_process
    np.testing.assert_array_equal(np.load(directory / "seeded.npy"), first)

    unseeded = [
        KerasMLPClassifier(epochs=3).fit(X, y).predict_proba(X) for _ in range(2)
    ]
    assert not np.array_equal(unseeded[0], unseeded[1])


def test_random_state_instance_is_not_consumed(digits_flat):
    X, y = digits_flat
    rng = np.random.RandomState(3)
    state = rng.get_state()[1].copy()
    a = KerasMLPClassifier(epochs=2, random_state=rng).fit(X, y).predict_proba(X)
    b = KerasMLPClassifier(epochs=2, random_state=rng).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rng.get_state()[1], state)


def test_fit_leaves_global_random_state_alone(digits_flat):
    X, y = digits_flat
    np.random.seed(11)
    expected = np.random.rand()
    np.random.seed(11)
    KerasMLPClassifier(epochs=1, random_state=0).fit(X, y)
    assert np.random.rand() == expected


# -- persistence --------------------------------------------------------------------


@pytest.mark.slow
def test_fitted_pipeline_round_trip_in_a_fresh_process(fresh_process):
    directory, pipe, images = fresh_process
    expected = pipe.predict_proba(images)
    for how in ("pickle", "joblib", "skmnist"):
        # the same probabilities, up to the float64 rounding of another
        # process's BLAS
        np.testing.assert_allclose(
            np.load(directory / f"{how}.npy"), expected, rtol=1e-12, atol=1e-15
        )


def test_clone_of_fitted_and_unfitted(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(hidden_layer_sizes=(16,), epochs=2, random_state=1)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y)
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params()
    assert not hasattr(fresh, "model_")
    np.testing.assert_array_equal(
        fresh.fit(X, y).predict_proba(X), clf.predict_proba(X)
    )


def test_params_through_the_pipeline():
    pipe = make_mnist_pipeline()
    pipe.set_params(
        mlp__epochs=3, mlp__hidden_layer_sizes=(128,), flatten__max_value=16
    )
    params = pipe.get_params()
    assert params["mlp__epochs"] == 3
    assert params["mlp__hidden_layer_sizes"] == (128,)
    assert params["flatten__max_value"] == 16
    assert pipe.named_steps["mlp"].epochs == 3


# -- input kinds --------------------------------------------------------------------


@pytest.mark.slow
def test_pixel_dtypes_train_the_same_model(mnist_train, mnist_test):
    X, y = mnist_train
    X_test, y_test = mnist_test
    predictions = []
    for dtype in (np.uint8, np.float32, np.float64):
        pipe = make_mnist_pipeline(epochs=2, random_state=0)
        pipe.fit(X[:6000].astype(dtype), y[:6000])
        assert pipe.score(X_test[:2000].astype(dtype), y_test[:2000]) > 0.8
        predictions.append(pipe.predict(X_test[:2000].astype(dtype)))
    np.testing.assert_array_equal(predictions[0], predictions[1])
    np.testing.assert_array_equal(predictions[0], predictions[2])


def test_nested_lists(digits):
    images, y = digits
    pipe = make_mnist_pipeline(epochs=5, random_state=0).set_params(
        flatten__max_value=16
    )
    pipe.fit(images[:300].tolist(), y[:300].tolist())
    assert pipe.predict(images[:3].tolist()).shape == (3,)


def test_dataframe_columns_are_checked(digits_flat):
    X, y = digits_flat
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    clf = KerasMLPClassifier(epochs=2, random_state=0).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict(frame.rename(columns={"px3": "other"}))


def _warnings_of(call, *args):
    """The user warnings ``call(*args)`` gives (not sklearn 1.6's FutureWarning
    about scikeras' old-style tags)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(*args)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_plain_arrays_after_named_features_warn_as_sklearns_own_estimators(
    digits_flat,
):
    X, y = digits_flat
    X, y = X[:200], y[:200]
    frame = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    pairs = [
        (KerasMLPClassifier(epochs=1, random_state=0), MLPClassifier(max_iter=300)),
        (ImageFlattener(max_value=1), MinMaxScaler()),
    ]
    for ours, peer in pairs:
        ours.fit(frame, y)
        peer.fit(frame, y)
        act = ours.predict if hasattr(ours, "predict") else ours.transform
        peer_act = peer.predict if hasattr(peer, "predict") else peer.transform
        for rows in (X, X[:1], X.astype(np.float32)):
            expected = _warnings_of(peer_act, rows)
            assert expected, "the peer warns of a plain array"
            assert _warnings_of(act, rows) == [
                m.replace(type(peer).__name__, type(ours).__name__) for m in expected
            ]


def test_every_array_layout_predicts_as_its_nested_lists(digits):
    images, y = digits
    pipe = make_mnist_pipeline(**FAST).set_params(flatten__max_value=16)
    pipe.fit(images[:300], y[:300])
    some = images[300:340]
    layouts = {
        "float64 images": some,
        # pixels whose scaled values need float32's precision: a coarser
        # conversion on the short path would show
        "fractional pixels": some * 0.97,
        "uint8 images": some.astype(np.uint8),
        "int64 rows": some.reshape(40, -1).astype(np.int64),
        "float32 rows": some.reshape(40, -1).astype(np.float32),
        "Fortran order": np.asfortranarray(some),
        "every other image": images[300:380:2],
        "one image": some[:1],
    }
    for name, X in layouts.items():
        np.testing.assert_array_equal(
            pipe.predict_proba(X), pipe.predict_proba(X.tolist()), err_msg=name
        )
        np.testing.assert_array_equal(
            pipe[-1].predict_proba(pipe[0].transform(X)),
            pipe[-1].predict_proba(pipe[0].transform(X).tolist()),
            err_msg=name,
        )


def test_pandas_categorical_labels(digits_flat):
    X, y = digits_flat
    names = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )
    labels = pd.Series(pd.Categorical(names[y]))
    clf = KerasMLPClassifier(epochs=15, random_state=0).fit(X, labels)
    assert clf.classes_.tolist() == sorted(names)
    assert np.mean(clf.predict(X) == names[y]) > 0.9
