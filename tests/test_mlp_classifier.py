"""skmnist.MLPClassifier against its oracle, scikit-learn's MLPClassifier.

Each scenario runs through both classes on scikit-learn's digits and
compares what a user sees: the signature and parameters, the warnings (class
and message), the errors (class and message), the fitted attributes and
their accounting across warm starts and partial_fit, the printed progress and
the accuracy (within a tolerance). A change in scikit-learn's behaviour shows
up here as a failing comparison. The behaviours that exist in
KerasMLPClassifier too are checked on it as well.
"""

import functools
import inspect
import re
import warnings
from numbers import Integral, Real

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import sklearn.neural_network
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmnist import KerasMLPClassifier, MLPClassifier

pytestmark = pytest.mark.jax

SkMLPClassifier = sklearn.neural_network.MLPClassifier

# Small and fast: the oracle and ours train the same small network.
FAST = {"hidden_layer_sizes": (32,), "random_state": 0}


@pytest.fixture(scope="module")
def data(digits_flat):
    X, y = digits_flat
    return X[:600], y[:600]


def pair(**params):
    """The oracle and ours, built with the same parameters."""
    return SkMLPClassifier(**params), MLPClassifier(**params)


def outcome(call):
    """The error ``call()`` raises, ``(type, message)`` or None, and its warnings.

    Warnings are those of scikit-learn's kind (UserWarning and subclasses,
    ConvergenceWarning among them), as ``(category, message)``.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
            error = None
        except Exception as exc:  # compared with the oracle's below
            error = (type(exc), str(exc))
    seen = [
        (w.category, str(w.message))
        for w in caught
        if issubclass(w.category, UserWarning)
    ]
    return error, seen


def _canonical(message):
    """``message`` with the items of each ``{...}`` set sorted.

    A set's order depends on the hash seed and on the order its literal was
    compiled in: the oracle's and ours may list the same options differently.
    """

    def sort_items(match):
        return "{" + ", ".join(sorted(match.group(1).split(", "))) + "}"

    return re.sub(r"\{([^{}]*)\}", sort_items, message)


def assert_same_error(oracle_call, our_call):
    """Both calls raise the same exception class with the same message."""
    expected, _ = outcome(oracle_call)
    assert expected is not None, "the oracle raised nothing"
    kind, message = expected
    with pytest.raises(kind) as info:
        our_call()
    assert _canonical(str(info.value)) == _canonical(message)


def assert_same_outcome(oracle_call, our_call):
    """Both calls give the same error (or none) and the same warnings."""
    assert outcome(our_call) == outcome(oracle_call)


def fitted_attributes(estimator):
    return {
        key for key in vars(estimator) if key.endswith("_") and not key.startswith("_")
    }


# -- the constructor ---------------------------------------------------------


def test_signature_is_sklearns():
    ours = inspect.signature(MLPClassifier)
    oracle = inspect.signature(SkMLPClassifier)
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in oracle.parameters.values()
    ]


def test_get_params_and_clone_are_sklearns():
    oracle, ours = pair()
    assert ours.get_params() == oracle.get_params()
    custom = {"max_iter": 7, "hidden_layer_sizes": (5, 3), "solver": "sgd"}
    oracle, ours = pair(**custom)
    assert clone(ours).get_params() == clone(oracle).get_params()
    assert repr(ours) == repr(oracle)
    # no routed Keras parameters: an unknown name fails as in scikit-learn
    assert_same_error(
        lambda: SkMLPClassifier().set_params(fit__verbose=1),
        lambda: MLPClassifier().set_params(fit__verbose=1),
    )


def test_is_a_classifier_that_takes_sparse_input():
    oracle, ours = pair()
    assert is_classifier(ours) and is_classifier(oracle)
    assert ours.__sklearn_tags__().input_tags.sparse
    assert ours.__sklearn_tags__().input_tags.sparse == (
        oracle.__sklearn_tags__().input_tags.sparse
    )
    assert not KerasMLPClassifier().__sklearn_tags__().input_tags.sparse


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -1.0},
        {"max_iter": 0},
        {"activation": "gelu"},
        {"solver": "newton"},
        {"momentum": 1.5},
        {"batch_size": 0},
        {"validation_fraction": 1.0},
        {"n_iter_no_change": 0},
        {"max_fun": 0},
        {"hidden_layer_sizes": (10, 0)},
    ],
    ids=lambda params: next(iter(params)),
)
def test_bad_parameters_fail_as_in_sklearn(data, params):
    X, y = data
    oracle, ours = pair(**params)
    assert_same_error(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))


def test_partial_fit_is_absent_for_lbfgs_as_in_sklearn():
    assert_same_error(
        lambda: SkMLPClassifier(solver="lbfgs").partial_fit,
        lambda: MLPClassifier(solver="lbfgs").partial_fit,
    )
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    assert not hasattr(KerasMLPClassifier(solver="lbfgs"), "partial_fit")


# -- warnings ------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        # the epoch limit is reached before convergence
        {"max_iter": 3},
        # tol=100 stalls every epoch: stopped, so no warning
        {"max_iter": 20, "tol": 100.0, "n_iter_no_change": 2},
    ],
    ids=["not converged", "stopped"],
)
def test_convergence_warning_as_in_sklearn(data, params):
    X, y = data
    oracle, ours = pair(**FAST, **params)
    assert_same_outcome(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))
    assert ours.n_iter_ == oracle.n_iter_


def test_batch_size_larger_than_the_data_warns_as_in_sklearn(data):
    X, y = data
    oracle, ours = pair(**FAST, max_iter=1, batch_size=1000, tol=100.0)
    assert_same_outcome(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_real_parameters_take_ints_and_numpy_floats(data, solver):
    # Keras' optimizers refuse an int where scikit-learn takes any real
    X, y = data
    params = {
        "solver": solver,
        "momentum": 0,
        "beta_1": 0,
        "beta_2": np.float32(0.5),
        "epsilon": 1,
        "learning_rate_init": np.float64(0.01),
        "alpha": 0,
        "tol": 0,
        "power_t": 1,
        "max_iter": 1,
        "validation_fraction": np.float32(0.2),
        "early_stopping": True,
    }
    oracle, ours = pair(**FAST, **params)
    assert_same_outcome(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))
    epochs = {k: v for k, v in params.items() if k != "max_iter"}
    with pytest.warns(ConvergenceWarning):
        KerasMLPClassifier(**epochs, epochs=1).fit(X, y)


# -- errors ----------------------------------------------------------------------


def test_partial_fit_errors_are_sklearns(data):
    X, y = data
    classes = np.arange(10)
    oracle, ours = pair(**FAST)
    # no classes on the first call
    assert_same_error(
        lambda: clone(oracle).partial_fit(X, y),
        lambda: clone(ours).partial_fit(X, y),
    )
    oracle.partial_fit(X, y, classes=classes)
    ours.partial_fit(X, y, classes=classes)
    # other classes on a later call
    assert_same_error(
        lambda: oracle.partial_fit(X, y, classes=classes[:9]),
        lambda: ours.partial_fit(X, y, classes=classes[:9]),
    )
    # labels that are not among the classes
    assert_same_error(
        lambda: oracle.partial_fit(X, y + 1),
        lambda: ours.partial_fit(X, y + 1),
    )
    # early stopping
    oracle.set_params(early_stopping=True)
    ours.set_params(early_stopping=True)
    assert_same_error(
        lambda: oracle.partial_fit(X, y),
        lambda: ours.partial_fit(X, y),
    )
    assert_same_error(
        lambda: clone(oracle).partial_fit(X, y, classes=classes),
        lambda: clone(ours).partial_fit(X, y, classes=classes),
    )


@pytest.fixture(scope="module")
def fitted_pair(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return [clf.fit(X, y) for clf in pair(max_iter=5, **FAST)]


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_input_fails_as_in_sklearn(data, fitted_pair, value, dtype):
    # Rows at the start and the end of whole blocks of the forward pass, in
    # a padded last block, and a lone row.
    oracle, ours = fitted_pair
    X, y = data
    rows = X[:130].astype(dtype)
    for row, feature in [(0, 0), (63, 20), (64, 63), (129, 31)]:
        bad = rows.copy()
        bad[row, feature] = value
        for method, args in [
            ("predict", (bad,)),
            ("predict_proba", (bad,)),
            ("predict_log_proba", (bad,)),
            ("score", (bad, y[:130])),
            ("predict", (bad[row : row + 1],)),
        ]:
            assert_same_error(
                functools.partial(getattr(oracle, method), *args),
                functools.partial(getattr(ours, method), *args),
            )
    # A row of numbers too large for float32 sums: finite, so predicted.
    huge = rows.copy()
    huge[5] = np.finfo(np.float32).max
    assert_same_outcome(lambda: oracle.predict(huge), lambda: ours.predict(huge))


# -- diverging fits and odd weights (issue 29, class 3) ------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_a_diverging_fit_fails_as_in_sklearn(data, solver):
    # A step of 1e300 overflows the weights: scikit-learn warns that the
    # iterations ran out, then refuses the weights; the model keeps them.
    X, y = data
    params = {**FAST, "solver": solver, "learning_rate_init": 1e300, "max_iter": 3}
    oracle, ours = pair(**params)
    error, seen = outcome(lambda: oracle.fit(X, y))
    assert error is not None and error[1].startswith("Solver produced non-finite")
    assert outcome(lambda: ours.fit(X, y)) == (error, seen)
    assert ours.n_iter_ == oracle.n_iter_ == 3
    assert not all(np.isfinite(w).all() for w in ours.coefs_)
    # partial_fit runs the same check
    _, ours = pair(**params)
    with pytest.raises(ValueError, match="^Solver produced non-finite"):
        ours.partial_fit(X, y, classes=np.unique(y))


def test_huge_sample_weights_never_leave_non_finite_weights_unsaid(data):
    # float64 scikit-learn trains on weights of 1e38; float32 Keras overflows
    # and then says so in scikit-learn's words, never silently.
    X, y = data
    ours = MLPClassifier(**FAST, max_iter=3, solver="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            ours.fit(X, y, sample_weight=np.full(len(y), 1e38))
        except ValueError as error:
            assert str(error).startswith("Solver produced non-finite")
        else:
            assert all(np.isfinite(w).all() for w in ours.coefs_)


def _weights(n, value, where=slice(0, 5)):
    weights = np.ones(n)
    weights[where] = value
    return weights


@pytest.mark.skipif(
    tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 7),
    reason="scikit-learn before 1.7 has no sample_weight in MLPClassifier.fit",
)
@pytest.mark.parametrize(
    "make",
    [
        lambda n: _weights(n, np.nan),
        lambda n: _weights(n, np.inf),
        lambda n: _weights(n, -np.inf),
        lambda n: _weights(n, -1.0),
        lambda n: np.zeros(n),
        lambda n: np.zeros(n, dtype=np.float32),
    ],
    ids=["nan", "inf", "-inf", "negative", "all zero", "all zero float32"],
)
def test_odd_sample_weights_as_in_sklearn(data, make):
    X, y = data
    oracle, ours = pair(**FAST, max_iter=2)
    weights = make(len(y))
    assert_same_outcome(
        lambda: oracle.fit(X, y, sample_weight=weights),
        lambda: ours.fit(X, y, sample_weight=weights),
    )


@pytest.mark.parametrize("sizes", [(1.5,), (np.float64(2.0),), (0, 1.5), 1.5])
def test_float_hidden_layer_sizes_fail_as_in_sklearn(data, sizes):
    X, y = data
    oracle, ours = pair(hidden_layer_sizes=sizes, max_iter=2, random_state=0)
    assert_same_error(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))
    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter"):
        KerasMLPClassifier(hidden_layer_sizes=sizes, epochs=1).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (1e38, "^Solver produced non-finite parameter weights"),
        (np.inf, "not finite"),
        (np.nan, "not finite"),
        (0.0, "every sample a weight of 0"),
    ],
)
def test_keras_classifier_refuses_class_weights_that_train_nothing(data, weight, match):
    X, y = data
    class_weight = dict.fromkeys(np.unique(y).tolist(), weight)
    clf = KerasMLPClassifier(
        hidden_layer_sizes=(8,), epochs=2, random_state=0, class_weight=class_weight
    )
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    # a class of weight 0 among others trains on the rest
    class_weight[0] = 0.0
    for label in class_weight:
        if label:
            class_weight[label] = 1.0
    KerasMLPClassifier(
        hidden_layer_sizes=(8,), epochs=1, random_state=0, class_weight=class_weight
    ).fit(X, y)


def test_keras_classifier_partial_fit_errors_are_sklearns(data):
    X, y = data
    classes = np.arange(10)
    oracle = SkMLPClassifier(**FAST)
    ours = KerasMLPClassifier(**FAST)
    assert_same_error(lambda: oracle.partial_fit(X, y), lambda: ours.partial_fit(X, y))
    oracle.partial_fit(X, y, classes=classes)
    ours.partial_fit(X, y, classes=classes)
    assert_same_error(
        lambda: oracle.partial_fit(X, y, classes=classes[1:]),
        lambda: ours.partial_fit(X, y, classes=classes[1:]),
    )
    oracle.set_params(early_stopping=True)
    ours.set_params(early_stopping=True)
    assert_same_error(lambda: oracle.partial_fit(X, y), lambda: ours.partial_fit(X, y))


def test_warm_start_with_other_classes_fails_as_in_sklearn(data):
    X, y = data
    oracle, ours = pair(**FAST, max_iter=1, warm_start=True)
    for clf in (oracle, ours):
        with pytest.warns(ConvergenceWarning):
            clf.fit(X, y)
    keep = y < 9
    assert_same_error(
        lambda: oracle.fit(X[keep], y[keep]), lambda: ours.fit(X[keep], y[keep])
    )


@pytest.mark.parametrize(
    "n_samples, fraction, binary",
    [(3, 0.1, False), (10, 0.1, False), (60, 0.01, True), (60, 0.0, False)],
    ids=["3 samples", "10 samples", "binary, 1 held out", "none held out"],
)
def test_too_small_a_validation_split_fails_as_in_sklearn(
    data, n_samples, fraction, binary
):
    X, y = data
    X, y = X[:n_samples], (y[:n_samples] % 2 if binary else y[:n_samples])
    params = {"early_stopping": True, "validation_fraction": fraction}
    oracle, ours = pair(**FAST, **params)
    if outcome(lambda: clone(oracle).fit(X, y))[0] is None:
        # Older scikit-learn (1.6 in CI) trains on a multiclass held-out set
        # this small; skmnist refuses it with current scikit-learn's message.
        assert not binary and fraction
        with pytest.raises(ValueError, match="The validation set is too small"):
            ours.fit(X, y)
        return
    assert_same_error(lambda: oracle.fit(X, y), lambda: ours.fit(X, y))
    keras_clf = KerasMLPClassifier(**FAST, **params)
    if fraction == 0:  # its parameters refuse it before any split
        with pytest.raises(ValueError, match="'validation_fraction' parameter"):
            keras_clf.fit(X, y)
    else:
        assert_same_error(lambda: oracle.fit(X, y), lambda: keras_clf.fit(X, y))


# -- fitted attributes and their accounting ------------------------------------


def test_fitted_attributes_are_sklearns(data):
    X, y = data
    oracle, ours = pair(**FAST, max_iter=3)
    for clf in (oracle, ours):
        with pytest.warns(ConvergenceWarning):
            clf.fit(X, y)
    for name in sorted(fitted_attributes(oracle)):
        assert hasattr(ours, name), name
        assert _kind(getattr(ours, name)) == _kind(getattr(oracle, name)), name
    for key in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_"):
        assert getattr(ours, key) == getattr(oracle, key), key
    assert ours.classes_.tolist() == oracle.classes_.tolist()
    assert [c.shape for c in ours.coefs_] == [c.shape for c in oracle.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in oracle.intercepts_]
    assert len(ours.loss_curve_) == len(oracle.loss_curve_) == 3
    assert ours.validation_scores_ is oracle.validation_scores_ is None
    log_proba = ours.predict_log_proba(X)
    assert log_proba.shape == oracle.predict_log_proba(X).shape
    np.testing.assert_allclose(np.exp(log_proba), ours.predict_proba(X), rtol=1e-6)


def _kind(value):
    """The kind of a fitted attribute, as a user's code would test it."""
    if value is None:
        return None
    for kind in (bool, Integral, Real, str, list, np.ndarray):
        if isinstance(value, kind):
            return kind.__name__
    return type(value).__name__


def _accounting(clf):
    scores = clf.validation_scores_
    return clf.n_iter_, clf.t_, len(clf.loss_curve_), scores and len(scores)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_warm_start_accounting_is_sklearns(data, early_stopping):
    X, y = data
    params = {"max_iter": 2, "warm_start": True, "early_stopping": early_stopping}
    oracle, ours = pair(**FAST, **params)
    steps = []
    for clf in (oracle, ours):
        record = []
        with pytest.warns(ConvergenceWarning):
            clf.fit(X, y)
        record.append(_accounting(clf))
        with pytest.warns(ConvergenceWarning):
            clf.set_params(max_iter=3).fit(X, y)  # up to max_iter more epochs
        record.append(_accounting(clf))
        steps.append(record)
    assert steps[1] == steps[0]
    assert steps[0][1][0] == 3  # n_iter_ counts the last call


def test_partial_fit_accounting_is_sklearns(data):
    X, y = data
    oracle, ours = pair(**FAST)
    steps = []
    for clf in (oracle, ours):
        record = []
        clf.partial_fit(X[:200], y[:200], classes=np.arange(10))
        for _ in range(2):
            clf.partial_fit(X, y)
            record.append(_accounting(clf))
        with pytest.warns(ConvergenceWarning):
            clf.set_params(max_iter=2).fit(X, y)  # a cold fit starts over
        record.append(_accounting(clf))
        steps.append(record)
    assert steps[1] == steps[0]


def test_keras_classifier_counts_as_sklearn(data):
    X, y = data
    oracle = SkMLPClassifier(**FAST, max_iter=2, warm_start=True)
    ours = KerasMLPClassifier(**FAST, epochs=2, warm_start=True)
    for clf in (oracle, ours):
        for _ in range(2):
            with pytest.warns(
                ConvergenceWarning, match=re.escape("Maximum iterations (2) reached")
            ):
                clf.fit(X, y)
        clf.partial_fit(X, y)
    assert _accounting(ours) == _accounting(oracle)
    log_proba = ours.predict_log_proba(X[:5])
    np.testing.assert_allclose(np.exp(log_proba), ours.predict_proba(X[:5]))


# -- verbose -------------------------------------------------------------------


def _shape_of(text):
    """Printed lines with their numbers blanked out."""
    return re.sub(r"\d+(\.\d+)?", "N", text).splitlines()


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_sklearns_lines(data, early_stopping, capsys):
    X, y = data
    params = {"verbose": True, "max_iter": 10, "tol": 100.0, "n_iter_no_change": 1}
    oracle, ours = pair(**FAST, **params, early_stopping=early_stopping)
    oracle.fit(X, y)
    expected = capsys.readouterr().out
    ours.fit(X, y)
    printed = capsys.readouterr().out
    assert _shape_of(printed) == _shape_of(expected)
    assert printed.startswith("Iteration 1, loss = ")
    assert ("Validation score: " in printed) == early_stopping
    assert printed.rstrip().endswith("Stopping.")
    ours.set_params(verbose=False).fit(X, y)
    assert capsys.readouterr().out == ""


# -- sparse input -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_trains_a_batch_at_a_time(data, fmt, monkeypatch):
    X, y = data
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    densified = []
    toarray = sp.csr_matrix.toarray

    def counting_toarray(self, *args, **kwargs):
        densified.append(self.shape[0])
        return toarray(self, *args, **kwargs)

    params = {**FAST, "max_iter": 3, "batch_size": 50, "early_stopping": True}
    oracle, ours = pair(**params)
    expected = outcome(lambda: oracle.fit(X_sparse, y))
    monkeypatch.setattr(sp.csr_matrix, "toarray", counting_toarray)
    assert outcome(lambda: ours.fit(X_sparse, y)) == expected
    assert densified and max(densified) <= 50  # never the whole matrix
    with pytest.warns(ConvergenceWarning):
        dense = MLPClassifier(**params).fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X_sparse), dense.predict_proba(X), atol=1e-5
    )
    assert ours.predict(X_sparse).shape == oracle.predict(X_sparse).shape


# -- accuracy and searches -----------------------------------------------------------


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_accuracy_close_to_sklearns(digits_flat, solver):
    X, y = digits_flat
    params = {"hidden_layer_sizes": (64,), "max_iter": 40, "random_state": 0}
    params.update(solver=solver, learning_rate_init=0.1 if solver == "sgd" else 0.01)
    scores = []
    for clf in pair(**params):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[:1200], y[:1200])
        scores.append(clf.score(X[1200:], y[1200:]))
    oracle_score, our_score = scores
    assert our_score > 0.9 and oracle_score > 0.9
    assert abs(our_score - oracle_score) < 0.05


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_max_iter_and_widths(data):
    X, y = data
    grid = {"max_iter": [2, 4], "hidden_layer_sizes": [(8,), (16,)]}
    searches = [GridSearchCV(clf, grid, cv=2).fit(X, y) for clf in pair(random_state=0)]
    oracle, ours = searches
    assert set(ours.cv_results_) == set(oracle.cv_results_)
    assert ours.cv_results_["params"] == oracle.cv_results_["params"]
    best = ours.best_estimator_
    assert isinstance(best, MLPClassifier) and ours.best_params_ in grid_points(grid)
    # the searched parameters took effect
    assert best.n_iter_ == ours.best_params_["max_iter"]
    assert best.coefs_[0].shape[1] == ours.best_params_["hidden_layer_sizes"][0]


def grid_points(grid):
    return [
        {"max_iter": m, "hidden_layer_sizes": h}
        for h in grid["hidden_layer_sizes"]
        for m in grid["max_iter"]
    ]


# -- persistence hooks ---------------------------------------------------------------


def test_model_file_hooks_and_pickle_round_trip(data):
    import pickle

    X, y = data
    clf = MLPClassifier(**FAST, max_iter=2, early_stopping=True)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    state, weights = clf.__skmnist_getstate__()
    assert {"n_iter_", "t_", "loss_curve_", "validation_scores_"} <= set(state)
    restored = MLPClassifier(**clf.get_params())
    restored.__skmnist_setstate__(state, weights)
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert _accounting(restored) == _accounting(clf)
    unpickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(unpickled.predict_proba(X), clf.predict_proba(X))
    assert unpickled.get_params() == clf.get_params()
