"""``solver="lbfgs"`` on both faces, side by side with scikit-learn's MLPClassifier.

The oracle is ``sklearn.neural_network.MLPClassifier(solver="lbfgs")``: each
scenario runs through both classes on the same data (scikit-learn's digits
and the gallery's toy sets) and compares what a user sees: the fitted
attributes present and absent, ``n_iter_`` and ``loss_``, the
ConvergenceWarning (iterations or evaluations run out), the errors,
``warm_start``, sparse input and the test accuracy, within a tolerance where
the two start from different random weights. The engine behind it,
:mod:`skmnist._lbfgs`, has its own tests (``tests/test_lbfgs.py``).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.base
import sklearn.neural_network
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skmnist
from skmnist import KerasMLPClassifier, MLPClassifier

pytestmark = pytest.mark.jax

SkMLPClassifier = sklearn.neural_network.MLPClassifier

STOCHASTIC_RECORDS = (
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
)


@pytest.fixture(scope="module")
def digits(digits_flat):
    X, y = digits_flat
    return X[:500].astype(np.float64), y[:500], X[500:900], y[500:900]


def toy_sets():
    """The gallery's three toy sets (plot_classifier_comparison), standardised."""
    X, y = make_classification(
        n_features=2,
        n_redundant=0,
        n_informative=2,
        random_state=1,
        n_clusters_per_class=1,
    )
    X += 2 * np.random.RandomState(2).uniform(size=X.shape)
    sets = {
        "moons": make_moons(noise=0.3, random_state=0),
        "circles": make_circles(noise=0.2, factor=0.5, random_state=1),
        "linearly separable": (X, y),
    }
    return {
        name: train_test_split(
            StandardScaler().fit_transform(X), y, test_size=0.4, random_state=42
        )
        for name, (X, y) in sets.items()
    }


def pair(**params):
    return (
        SkMLPClassifier(solver="lbfgs", **params),
        MLPClassifier(solver="lbfgs", **params),
    )


def convergence_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if w.category is ConvergenceWarning]


@pytest.mark.parametrize("n_classes", [2, 10])
def test_fitted_attributes_are_sklearns(digits, n_classes):
    X, y, _, _ = digits
    keep = y < n_classes
    oracle, ours = pair(hidden_layer_sizes=(16,), random_state=0, max_iter=300)
    for clf in (oracle, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X[keep], y[keep])
    for name in (*STOCHASTIC_RECORDS, "partial_fit"):
        assert hasattr(ours, name) == hasattr(oracle, name), name
    for name in ("n_iter_", "loss_", "t_", "coefs_", "intercepts_", "n_layers_"):
        assert hasattr(ours, name) and hasattr(oracle, name), name
    assert ours.t_ == oracle.t_ == 0
    assert isinstance(ours.n_iter_, int) and 1 <= ours.n_iter_ <= 300
    assert isinstance(ours.loss_, float)
    # Different random starts reach different optima of a small loss: the
    # same order of magnitude, not the same digits.
    assert ours.loss_ == pytest.approx(oracle.loss_, rel=0.5, abs=0.02)
    np.testing.assert_array_equal(ours.classes_, oracle.classes_)


@pytest.mark.parametrize("n_classes", [2, 10])
def test_loss_is_sklearns_where_the_optimum_is_unique(digits, n_classes):
    """No hidden layer, strong L2 penalty: a convex loss, the same optimum.

    For two classes scikit-learn has one logistic unit and skmnist a softmax
    of two: the same optimum only if the output layer is penalised as
    scikit-learn penalises its one unit.
    """
    X, y, _, _ = digits
    X, y = X[y < n_classes], y[y < n_classes]
    oracle, ours = pair(hidden_layer_sizes=(), alpha=10.0, random_state=0)
    oracle.fit(X, y)
    ours.fit(X, y)
    # both stop at tol=1e-4 on the gradient, each from its own start
    assert ours.loss_ == pytest.approx(oracle.loss_, rel=1e-4)
    np.testing.assert_allclose(
        ours.predict_proba(X), oracle.predict_proba(X), atol=5e-3
    )


@pytest.mark.parametrize(
    "params",
    [{"max_iter": 5}, {"max_iter": 1000, "max_fun": 7}],
    ids=["max_iter", "max_fun"],
)
def test_convergence_warning_is_sklearns(digits, params):
    X, y, _, _ = digits
    oracle, ours = pair(hidden_layer_sizes=(16,), random_state=0, **params)
    expected = convergence_warnings(lambda: oracle.fit(X, y))
    assert len(expected) == 1
    seen = convergence_warnings(lambda: ours.fit(X, y))
    if "max_fun" in params:
        # stopped by the evaluation limit, long before the iteration limit,
        # after as many iterations as the line searches from each start took
        assert ours.n_iter_ < 7 and oracle.n_iter_ < 7
        expected = [m.replace(f" {oracle.n_iter_} it", " N it") for m in expected]
        seen = [m.replace(f" {ours.n_iter_} it", " N it") for m in seen]
        assert seen == expected
    else:
        assert seen == expected
        assert ours.n_iter_ == oracle.n_iter_ == 5


def test_converged_fit_does_not_warn(digits):
    X, y, _, _ = digits
    oracle, ours = pair(hidden_layer_sizes=(), alpha=1.0, random_state=0)
    assert convergence_warnings(lambda: oracle.fit(X, y)) == []
    assert convergence_warnings(lambda: ours.fit(X, y)) == []
    assert ours.n_iter_ < ours.max_iter


@pytest.mark.parametrize("params", [{"max_fun": 0}, {"max_fun": 1.5}])
def test_bad_max_fun_fails_as_in_sklearn(digits, params):
    X, y, _, _ = digits
    oracle, ours = pair(**params)
    with pytest.raises(ValueError) as expected:
        oracle.fit(X, y)
    with pytest.raises(type(expected.value), match="'max_fun' parameter"):
        ours.fit(X, y)


def test_warm_start_continues_and_replaces_n_iter_as_sklearn(digits):
    X, y, _, _ = digits
    oracle, ours = pair(
        hidden_layer_sizes=(16,), random_state=0, max_iter=5, warm_start=True
    )
    for clf in (oracle, ours):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
            first = clf.loss_, clf.coefs_[0].copy()
            clf.fit(X, y)
        # n_iter_ counts this call's iterations, not the total
        assert clf.n_iter_ == 5
        assert clf.loss_ < first[0]
        assert not hasattr(clf, "loss_curve_")
    # the second fit went on from the first one's weights: ten iterations
    # in one call reach the same point
    ten = MLPClassifier(solver="lbfgs", hidden_layer_sizes=(16,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ten.set_params(max_iter=10).fit(X, y)
    cold = clone_fit(ours, X, y, max_iter=5, warm_start=False)
    assert ours.loss_ < cold.loss_
    assert ours.loss_ == pytest.approx(ten.loss_, rel=0.2)


def clone_fit(clf, X, y, **params):
    fresh = sklearn.base.clone(clf).set_params(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fresh.fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_trains_as_dense(digits, fmt):
    X, y, X_test, _ = digits
    oracle, ours = pair(hidden_layer_sizes=(16,), random_state=0, max_iter=30)
    sparse = sp.csr_matrix(X).asformat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        oracle.fit(sparse, y)  # scikit-learn takes it: so do we
        ours.fit(sparse, y)
        dense = clone_fit(ours, X, y)
    assert ours.n_iter_ == dense.n_iter_ == 30
    assert ours.loss_ == pytest.approx(dense.loss_, rel=1e-5)
    np.testing.assert_array_equal(ours.predict(X_test), dense.predict(X_test))


def test_digits_accuracy_close_to_sklearns(digits):
    X, y, X_test, y_test = digits
    oracle, ours = pair(hidden_layer_sizes=(32,), random_state=0, max_iter=200)
    for clf in (oracle, ours):
        clf.fit(X, y)
    expected = oracle.score(X_test, y_test)
    assert expected > 0.85
    assert ours.score(X_test, y_test) >= expected - 0.03


@pytest.mark.parametrize("alpha", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("name", ["moons", "circles", "linearly separable"])
def test_toy_set_accuracy_close_to_sklearns(name, alpha):
    X, X_test, y, y_test = toy_sets()[name]
    oracle, ours = pair(
        hidden_layer_sizes=(10, 10), alpha=alpha, random_state=1, max_iter=1000
    )
    for clf in (oracle, ours):
        clf.fit(X, y)
    assert ours.n_iter_ < 1000
    assert abs(ours.score(X_test, y_test) - oracle.score(X_test, y_test)) <= 0.1


def test_same_random_state_same_model(digits):
    X, y, X_test, _ = digits
    first, second = (
        MLPClassifier(solver="lbfgs", hidden_layer_sizes=(16,), random_state=3)
        .set_params(max_iter=20)
        .fit(X, y)
        for _ in range(2)
    )
    assert first.loss_ == second.loss_
    np.testing.assert_array_equal(
        first.predict_proba(X_test), second.predict_proba(X_test)
    )


def test_early_stopping_and_batch_size_are_ignored_as_in_sklearn(digits):
    X, y, X_test, _ = digits
    params = {"hidden_layer_sizes": (16,), "random_state": 0, "max_iter": 20}
    plain = clone_fit(MLPClassifier(solver="lbfgs", **params), X, y)
    ignored = {"early_stopping": True, "batch_size": 7, "validation_fraction": 0.5}
    oracle, ours = pair(**params, **ignored)
    for clf in (oracle, ours):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.fit(X, y)
        # no clipped-batch warning either (scikit-learn's kind: UserWarning)
        seen = [w.category for w in caught if issubclass(w.category, UserWarning)]
        assert seen == [ConvergenceWarning]
        assert not hasattr(clf, "validation_scores_")
    assert ours.loss_ == plain.loss_
    np.testing.assert_array_equal(ours.predict(X_test), plain.predict(X_test))


def test_sample_weight_as_repeated_rows(digits):
    X, y, _, _ = digits
    counts = np.random.RandomState(0).randint(1, 3, size=len(y))
    params = {"hidden_layer_sizes": (8,), "random_state": 0, "max_iter": 3}
    weighted = MLPClassifier(solver="lbfgs", **params)
    repeated = MLPClassifier(solver="lbfgs", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted.fit(X, y, sample_weight=counts.astype(float))
        repeated.fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-5)


def test_keras_face_trains_by_lbfgs(digits):
    X, y, X_test, y_test = digits
    clf = KerasMLPClassifier(
        solver="lbfgs", hidden_layer_sizes=(32,), epochs=200, random_state=0
    ).fit(X, y)
    assert 1 <= clf.n_iter_ <= 200
    assert clf.score(X_test, y_test) > 0.85
    assert not hasattr(clf, "loss_curve_") and not hasattr(clf, "partial_fit")
    with pytest.raises(ValueError, match="solver='lbfgs' trains without dropout"):
        KerasMLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)
    with pytest.raises(ValueError, match="optimizer=None"):
        KerasMLPClassifier(solver="lbfgs", optimizer="rmsprop").fit(X, y)


def test_model_file_round_trip(digits, tmp_path):
    X, y, X_test, _ = digits
    clf = MLPClassifier(
        solver="lbfgs", hidden_layer_sizes=(16,), random_state=0, max_iter=50
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    skmnist.save(clf, tmp_path / "lbfgs.skmnist")
    loaded = skmnist.load(tmp_path / "lbfgs.skmnist")
    assert loaded.n_iter_ == clf.n_iter_ and loaded.loss_ == clf.loss_
    assert not hasattr(loaded, "loss_curve_")
    np.testing.assert_array_equal(
        loaded.predict_proba(X_test), clf.predict_proba(X_test)
    )
