"""Full-batch L-BFGS (skmnist._lbfgs), side by side with scikit-learn's MLP.

scikit-learn's ``MLPClassifier(solver="lbfgs")`` is the oracle: its
``_loss_grad_lbfgs`` on the same weights, its warnings, its evaluation counts
and its test accuracy on the same data.
"""

import os
import signal
import threading
import warnings

import keras
import numpy as np
import pytest
import scipy.sparse
import sklearn
from sklearn.datasets import load_digits, make_circles, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import LabelBinarizer, StandardScaler
from threadpoolctl import threadpool_limits

from skmnist import _interrupt, _lbfgs, _network

# The oracle: scikit-learn's L-BFGS objective takes sample weights (and its
# MLPClassifier.fit a sample_weight) from 1.7 on; CI's oldest release, 1.6.1,
# cannot answer these comparisons.
pytestmark = [
    pytest.mark.jax,
    pytest.mark.skipif(
        tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 7),
        reason="scikit-learn before 1.7 has no sample weights in MLPClassifier",
    ),
]

ACTIVATIONS = ["relu", "tanh", "logistic", "identity"]


def network(n_features, n_outputs, hidden, activation="relu", seed=0):
    """The network skmnist builds: softmax output, two units for two classes."""
    return _network.build(
        n_features=n_features,
        n_outputs=n_outputs,
        hidden_layer_sizes=hidden,
        activation=activation,
        dropout=0.0,
        l2=0.0,
        seed=seed,
    )


def sigmoid_network(n_features, hidden, activation, seed=0):
    """scikit-learn's binary network: one logistic output unit."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=(n_features,))
    x = inputs
    for units in hidden:
        x = keras.layers.Dense(
            units, _network.ACTIVATIONS[activation], kernel_initializer=init
        )(x)
    outputs = keras.layers.Dense(1, "sigmoid", kernel_initializer=init)(x)
    return keras.Model(inputs, outputs)


def weights(model):
    """The model's kernels and biases in float64."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    pairs = [[w.astype(np.float64) for w in layer.get_weights()] for layer in dense]
    return [w for w, _ in pairs], [b for _, b in pairs]


def messages(record):
    """The ConvergenceWarning messages among recorded warnings."""
    return [str(w.message) for w in record if w.category is ConvergenceWarning]


def sklearn_on(model, X, y, activation, alpha, **params):
    """A scikit-learn MLP holding ``model``'s weights, ready to continue from them."""
    coefs, intercepts = weights(model)
    hidden = tuple(w.shape[1] for w in coefs[:-1])
    clf = MLPClassifier(
        solver="lbfgs",
        hidden_layer_sizes=hidden,
        activation=activation,
        alpha=alpha,
        max_iter=1,
        random_state=0,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)  # scikit-learn's own set-up: layer sizes, index pointers
    clf.coefs_, clf.intercepts_ = coefs, intercepts
    if coefs[-1].shape[1] == 2:  # skmnist's two-unit softmax for two classes
        clf.out_activation_ = "softmax"
        clf.n_outputs_ = 2
    return clf


def sklearn_loss_grad(clf, X, Y, sample_weight):
    units = [X.shape[1]] + [w.shape[1] for w in clf.coefs_]
    n_layers = len(units)
    clf._coef_indptr, clf._intercept_indptr, start = [], [], 0
    for i in range(n_layers - 1):
        end = start + units[i] * units[i + 1]
        clf._coef_indptr.append((start, end, (units[i], units[i + 1])))
        start = end
    for i in range(n_layers - 1):
        clf._intercept_indptr.append((start, start + units[i + 1]))
        start += units[i + 1]
    packed = np.hstack([w.ravel() for w in clf.coefs_ + clf.intercepts_])
    return clf._loss_grad_lbfgs(
        packed,
        X,
        Y,
        sample_weight,
        [X] + [None] * (n_layers - 1),
        [None] * (n_layers - 1),
        [np.empty_like(w) for w in clf.coefs_],
        [np.empty_like(b) for b in clf.intercepts_],
    )


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16, y


@pytest.fixture(scope="module")
def moons():
    X, y = make_moons(100, noise=0.3, random_state=0)
    return StandardScaler().fit_transform(X), y


CASES = ["multiclass", "binary softmax", "binary sigmoid"]


def case_network(case, digits, moons, activation):
    """``(model, X, y, Y)`` with ``Y`` the targets as scikit-learn's loss takes them."""
    if case == "multiclass":
        X, y = digits[0][:300], digits[1][:300]
        model = network(64, 10, (12, 7), activation)
        return model, X, y, LabelBinarizer().fit_transform(y).astype(float)
    X, y = moons
    if case == "binary softmax":
        model = network(2, 2, (6, 5), activation)
        return model, X, y, np.eye(2)[y]
    model = sigmoid_network(2, (6, 5), activation)
    return model, X, y, y.reshape(-1, 1).astype(float)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("case", CASES)
def test_loss_and_gradient_are_scikit_learns(
    case, activation, alpha, weighted, digits, moons
):
    model, X, y, Y = case_network(case, digits, moons, activation)
    sample_weight = None
    if weighted:
        sample_weight = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    loss, grad = _lbfgs.loss_grad(model, X, y, sample_weight, alpha=alpha)
    clf = sklearn_on(model, X, y, activation, alpha)
    expected_loss, expected_grad = sklearn_loss_grad(clf, X, Y, sample_weight)
    assert loss == pytest.approx(expected_loss, rel=1e-10)
    scale = np.abs(expected_grad).max()
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-10 * scale)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("case", CASES)
def test_gradient_agrees_with_finite_differences(case, activation, digits, moons):
    model, X, y, _ = case_network(case, digits, moons, activation)
    X, y = X[:40], y[:40]
    layers, names = _lbfgs._dense_chain(model)
    net = _lbfgs._Network([layer.kernel.shape for layer in layers], names)
    coefs, intercepts = weights(model)
    params = net.pack(coefs, intercepts)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    # the output layer's penalty apart, as for a two-unit softmax
    args = (X, y, sample_weight, [0.7] * (len(layers) - 1) + [1.3])
    _, grad = net.loss_grad(params, *args)
    step = 1e-6
    numeric = np.empty_like(params)
    for i in range(params.size):
        up, down = params.copy(), params.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = (net.loss_grad(up, *args)[0] - net.loss_grad(down, *args)[0]) / (
            2 * step
        )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_integer_weights_are_repeated_rows(moons):
    X, y = moons
    counts = np.random.default_rng(2).integers(0, 4, len(y))
    model = network(2, 2, (5,), "tanh")
    weighted = _lbfgs.loss_grad(model, X, y, counts.astype(float), alpha=1.0)
    repeated = _lbfgs.loss_grad(
        model, np.repeat(X, counts, axis=0), np.repeat(y, counts), alpha=1.0
    )
    assert weighted[0] == pytest.approx(repeated[0], rel=1e-12)
    np.testing.assert_allclose(weighted[1], repeated[1], rtol=1e-10, atol=1e-14)


def test_sparse_rows_give_the_dense_loss(digits):
    X, y = digits[0][:200], digits[1][:200]
    model = network(64, 10, (8,))
    dense = _lbfgs.loss_grad(model, X, y, alpha=0.5)
    sparse = _lbfgs.loss_grad(model, scipy.sparse.csr_matrix(X), y, alpha=0.5)
    assert sparse[0] == pytest.approx(dense[0], rel=1e-12)
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-10, atol=1e-14)


def fit(model, X, y, **params):
    params = {"alpha": 1e-4, "max_iter": 200, "max_fun": 15000, "tol": 1e-4, **params}
    return _lbfgs.fit_lbfgs(model, X, y, **params)


def test_follows_scikit_learns_path_from_the_same_start(moons):
    """Same start, same objective, same packing: the same iterations and optimum."""
    X, y = moons
    model = sigmoid_network(2, (10, 10), "tanh")
    clf = sklearn_on(model, X, y, "tanh", 1.0, warm_start=True, max_fun=15000)
    clf.set_params(max_iter=25)
    with pytest.warns(ConvergenceWarning) as expected:
        clf.fit(X, y)
    with pytest.warns(ConvergenceWarning) as ours:
        result = fit(model, X, y, alpha=1.0, max_iter=25)
    assert result.n_iter == clf.n_iter_ == 25
    assert result.loss == pytest.approx(clf.loss_, rel=1e-9)
    assert messages(ours) == messages(expected)
    coefs, intercepts = weights(model)
    for got, want in zip(coefs + intercepts, clf.coefs_ + clf.intercepts_, strict=True):
        np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-5, atol=1e-6)


def test_max_iter_reached_warns_as_scikit_learn(digits):
    X, y = digits
    model = network(64, 10, (16,))
    with pytest.warns(ConvergenceWarning) as record:
        result = fit(model, X, y, max_iter=5)
    clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=(16,), max_iter=5)
    with pytest.warns(ConvergenceWarning) as expected:
        clf.fit(X, y)
    assert messages(record) == messages(expected)
    (message,) = messages(record)
    assert message.startswith(
        "lbfgs failed to converge after 5 iteration(s) (status=1)"
    )
    assert "Increase the number of iterations" in message
    assert (result.n_iter, result.converged) == (5, False)


def test_max_fun_bounds_the_evaluations_as_in_scikit_learn(moons):
    X, y = moons
    model = sigmoid_network(2, (10, 10), "relu")
    clf = sklearn_on(model, X, y, "relu", 1.0, warm_start=True)
    calls = []
    original = clf._loss_grad_lbfgs
    clf._loss_grad_lbfgs = lambda *args: calls.append(1) or original(*args)
    clf.set_params(max_iter=1000, max_fun=20)
    with pytest.warns(ConvergenceWarning) as expected:
        clf.fit(X, y)
    with pytest.warns(ConvergenceWarning, match="EVALUATIONS EXCEEDS LIMIT") as ours:
        result = fit(model, X, y, alpha=1.0, max_iter=1000, max_fun=20)
    assert result.n_fun == len(calls)
    assert 20 <= result.n_fun < 20 + 10  # stops at the first check past the limit
    assert result.n_iter == clf.n_iter_ < 1000
    assert messages(ours) == messages(expected)
    assert "Increase the number of iterations" not in messages(ours)[0]


def test_converged_run_does_not_warn(moons):
    X, y = moons
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        result = fit(network(2, 2, (10, 10)), X, y, alpha=1.0, max_iter=1000)
    assert result.converged
    assert result.n_iter < 1000


def test_fits_are_reproducible(moons):
    X, y = moons
    runs = []
    for _ in range(2):
        model = network(2, 2, (10, 10), seed=3)
        result = fit(model, X, y, alpha=0.1)
        runs.append((result, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_warm_start_continues_as_scikit_learns(moons):
    """A second call starts from the model's weights and counts its own iterations."""
    X, y = moons
    model = sigmoid_network(2, (10, 10), "tanh")
    clf = sklearn_on(model, X, y, "tanh", 1.0, warm_start=True)
    clf.set_params(max_iter=10)
    ours = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            clf.fit(X, y)
            ours.append(fit(model, X, y, alpha=1.0, max_iter=10))
    assert [r.n_iter for r in ours] == [clf.n_iter_, clf.n_iter_] == [10, 10]
    assert ours[1].loss < ours[0].loss
    # The weights went through float32 between the calls; scikit-learn's did not.
    assert ours[1].loss == pytest.approx(clf.loss_, rel=1e-5)


def fitted_weights(X, y, sample_weight=None):
    model = network(X.shape[1], 10, (16,), "tanh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = _lbfgs.fit_lbfgs(
            model, X, y, sample_weight, alpha=1.0, max_iter=30, max_fun=15000, tol=1e-4
        )
    return result, model.get_weights()


def test_weighted_fit_is_the_fit_on_repeated_rows(digits):
    """Integer weights train the model that repeating the rows trains."""
    X, y = digits[0][:300], digits[1][:300]
    counts = np.random.default_rng(3).integers(0, 3, len(y))
    weighted, ours = fitted_weights(X, y, counts.astype(float))
    repeated, theirs = fitted_weights(np.repeat(X, counts, 0), np.repeat(y, counts))
    assert weighted.n_iter == repeated.n_iter == 30
    assert weighted.loss == pytest.approx(repeated.loss, rel=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_sparse_rows_train_the_dense_model(digits):
    X, y = digits[0][:300], digits[1][:300]
    dense, ours = fitted_weights(X, y)
    sparse, theirs = fitted_weights(scipy.sparse.csr_matrix(X), y)
    assert dense.loss == pytest.approx(sparse.loss, rel=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_ctrl_c_stops_at_the_end_of_an_iteration_and_keeps_it(default_sigint, digits):
    X, y = digits
    model = network(64, 10, (64,))
    before = model.get_weights()
    ctrl_c = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with _interrupt.deferred_interrupt() as interrupt:
            ctrl_c.start()
            result = fit(
                model, X, y, max_iter=10**5, max_fun=10**5, tol=0.0, interrupt=interrupt
            )
    ctrl_c.join()
    assert interrupt.honoured
    assert (result.converged, result.message) == (
        False,
        "Training interrupted by user.",
    )
    assert 0 < result.n_iter < 100_000
    after = model.get_weights()
    assert not any(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    loss, _ = _lbfgs.loss_grad(model, X, y, alpha=1e-4)
    assert loss == pytest.approx(result.loss, rel=1e-5)  # the kept weights' loss


def accuracy(model, X, y):
    probabilities = keras.ops.convert_to_numpy(model(X.astype(np.float32)))
    return float((probabilities.argmax(axis=1) == y).mean())


def sklearn_fit(X, y, **params):
    """scikit-learn's L-BFGS fit, on one BLAS thread as ours runs at this size."""
    with threadpool_limits(limits=1, user_api="blas"):
        return MLPClassifier(solver="lbfgs", random_state=0, **params).fit(X, y)


def toy_sets():
    yield "moons", make_moons(100, noise=0.3, random_state=0)
    yield "circles", make_circles(100, noise=0.2, factor=0.5, random_state=1)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("name,data", list(toy_sets()), ids=["moons", "circles"])
def test_toy_sets_score_as_scikit_learn(name, data, activation):
    X, y = data
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.4, random_state=42
    )
    model = network(2, 2, (10, 10), activation)
    fit(model, X_train, y_train, alpha=1.0, max_iter=1000)
    clf = sklearn_fit(
        X_train,
        y_train,
        hidden_layer_sizes=(10, 10),
        activation=activation,
        alpha=1.0,
        max_iter=1000,
    )
    assert accuracy(model, X_test, y_test) >= clf.score(X_test, y_test) - 0.05


def test_digits_score_as_scikit_learn(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.4, random_state=0
    )
    model = network(64, 10, (32,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit(model, X_train.astype(np.float32), y_train, max_iter=200)
        clf = sklearn_fit(X_train, y_train, hidden_layer_sizes=(32,), max_iter=200)
    ours, theirs = accuracy(model, X_test, y_test), clf.score(X_test, y_test)
    assert ours >= theirs - 0.05
    assert ours > 0.9


def test_weights_land_in_the_model_in_its_dtype(moons):
    X, y = moons
    model = network(2, 2, (4,))
    fit(model, X, y, alpha=1.0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    loss, _ = _lbfgs.loss_grad(model, X, y, alpha=1.0)
    assert np.isfinite(loss)


def test_weights_past_the_models_dtype_are_refused_and_the_model_kept():
    """Finite in float64 but not in the model's float32: scikit-learn's error."""
    model = network(2, 2, (4,))
    before = model.get_weights()
    layers, _ = _lbfgs._dense_chain(model)
    kernels, biases = _lbfgs._weights(layers)
    kernels[1] = kernels[1].astype(np.float64)
    kernels[1][0, 0] = 1e39
    with pytest.raises(ValueError, match="Solver produced non-finite parameter"):
        _lbfgs._write(layers, kernels, biases)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "layers,words",
    [
        ([keras.layers.Dropout(0.2)], "drops 0.2"),
        ([keras.layers.Dense(4, "relu", use_bias=False)], "Dense layers with biases"),
        ([keras.layers.Dense(4, "gelu")], "Dense layers with biases"),
        ([keras.layers.BatchNormalization()], "BatchNormalization"),
    ],
)
def test_networks_it_cannot_train_are_refused(moons, layers, words):
    X, y = moons
    model = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, "relu"), *layers]
        + [keras.layers.Dense(2, "softmax")]
    )
    with pytest.raises(ValueError, match=words):
        fit(model, X, y)
