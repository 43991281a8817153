"""MLPClassifier: scikit-learn's multi-layer perceptron classifier, trained by Keras.

The face of skmnist's engine (:mod:`skmnist._estimator`) named, placed and
shaped as :class:`sklearn.neural_network.MLPClassifier`: this module holds
its signature, defaults, docstring and parameter constraints, and what it
does as scikit-learn does where the engine's other face does not (its
errors for hidden sizes, the clipped batch size warning,
``partial_fit`` only for the stochastic solvers, sparse input).

Importing this module imports Keras (and its backend); :mod:`skmnist` imports
it only when the classifier is first used.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import operator
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils.metaestimators import available_if

from . import _compat, _estimator
from ._compat import Interval, Options, StrOptions
from ._estimator import _BaseMLP

__all__ = ["MLPClassifier"]


@_estimator.shared_notes
class MLPClassifier(_compat.SklearnParameters, _BaseMLP):
    """scikit-learn's multi-layer perceptron classifier, trained by Keras.

    A drop-in for :class:`sklearn.neural_network.MLPClassifier`: the same
    parameters, in the same order, with the same defaults, constraints and
    meanings; the same fitted attributes, warnings and errors. Changing the
    import is the whole migration::

        from skmnist import MLPClassifier  # was: from sklearn.neural_network ...

    The network is trained by skmnist's Keras engine (compiled epochs on
    TensorFlow or JAX) and evaluated by a NumPy forward pass. Where the
    algorithm differs from scikit-learn's, it differs on purpose:

    - weights and training run in float32 (scikit-learn keeps float64 input
      in float64);
    - ``solver="adam"`` and ``"sgd"`` are Keras' Adam and SGD, whose update
      rules are scikit-learn's; kernels start Glorot-uniform with one scale
      for every activation, biases at zero;
    - the output layer is a softmax with one unit per class, binary problems
      included (scikit-learn uses one logistic unit there), so `coefs_[-1]`
      has two columns for two classes (with ``solver="lbfgs"``, penalised
      by ``2 * alpha``, which has the optimum of scikit-learn's one unit
      penalised by `alpha`); multilabel ``y`` is not supported;
    - the early-stopping validation split is stratified for multiclass
      problems too, where scikit-learn stratifies only binary ones;
    - ``solver="lbfgs"`` is SciPy's L-BFGS-B on all the weights at once,
      as in scikit-learn, evaluated in float64 by NumPy; the weights it
      finds are kept in float32, and float64 input is read in float32.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        The weight optimizer: Keras' Adam, stochastic gradient descent
        with `momentum`, `nesterovs_momentum` and the `learning_rate`
        schedule, or ``"lbfgs"``, full-batch L-BFGS (SciPy's L-BFGS-B), which
        for small datasets can converge faster and perform better. With
        ``"lbfgs"``, `batch_size`, `early_stopping`, `validation_fraction`
        and `verbose` are not used, and :meth:`partial_fit` is not there.

    alpha : float, default=0.0001
        Strength of the L2 regularization term, divided by the sample size
        of each batch when added to its loss.

    batch_size : int or "auto", default="auto"
        Size of minibatches; ``"auto"`` is ``min(200, n_samples)``. A larger
        value is clipped to the number of samples, with a warning.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning rate schedule of the ``"sgd"`` solver.

    learning_rate_init : float, default=0.001
        The initial learning rate.

    power_t : float, default=0.5
        The exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=200
        Maximum number of epochs of one :meth:`fit`, a warm-started one
        included. Reaching it without converging raises a
        :class:`~sklearn.exceptions.ConvergenceWarning`.

    shuffle : bool, default=True
        Whether to shuffle samples in each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the validation split and the
        shuffling. Global random state is neither used nor changed.

    tol : float, default=1e-4
        Tolerance for the optimization: training stops when the loss (or
        the validation score, with `early_stopping`) fails to improve by at
        least `tol` for more than `n_iter_no_change` consecutive epochs.

    verbose : bool, default=False
        Whether to print scikit-learn's progress lines (``Iteration N, loss
        = L``, and ``Validation score: S`` with `early_stopping`).

    warm_start : bool, default=False
        When True, :meth:`fit` continues training the current network.

    momentum : float, default=0.9
        Momentum of the ``"sgd"`` solver, between 0 and 1.

    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum with ``"sgd"``.

    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data, stop when its
        accuracy fails to improve, and keep the weights of its best epoch.
        :meth:`partial_fit` refuses it.

    validation_fraction : float, default=0.1
        The share of training data held out with `early_stopping`.

    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.

    epsilon : float, default=1e-8
        Adam's numerical stability constant.

    n_iter_no_change : int, default=10
        Epochs without improvement by `tol` tolerated before stopping.

    max_fun : int, default=15000
        Most evaluations of the loss and its gradient by ``"lbfgs"``;
        reaching it raises a :class:`~sklearn.exceptions.ConvergenceWarning`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    loss_ : float
        The loss of the last epoch (with ``"lbfgs"``: at the end of training).

    best_loss_ : float or None
        The lowest loss reached; None with `early_stopping`.

    loss_curve_ : list of float
        The loss of each epoch, over all calls that continue one network.

    validation_scores_ : list of float or None
        The validation accuracy of each epoch with `early_stopping`, else
        None.

    best_validation_score_ : float or None
        The best validation accuracy with `early_stopping`, else None.

    t_ : int
        Training samples seen, over all calls that continue one network.

    coefs_ : list of ndarray
        Weight matrix of each layer.

    intercepts_ : list of ndarray
        Bias vector of each layer.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, for DataFrames with
        string column names.

    n_iter_ : int
        Epochs of the last call: of the last :meth:`fit`, or 1 after
        :meth:`partial_fit`; with ``"lbfgs"``, L-BFGS iterations of the last
        :meth:`fit`. `loss_curve_`, `best_loss_`, `validation_scores_` and
        `best_validation_score_` are set by the stochastic solvers only.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units, one per class.

    out_activation_ : str
        Name of the output activation, ``"softmax"``.

    model_ : keras.Model
        The trained Keras network.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The class this one stands in for.
    KerasMLPClassifier : The same engine with the classic network's defaults,
        `epochs`, dropout, class weights and any Keras optimizer.

    Notes
    -----
    .. Ctrl-C notes (skmnist._estimator.INTERRUPT_NOTES)

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=30, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)  # doctest: +SKIP
    array([0, 1, 2])
    """

    # Where scikit-learn 1.9's MLPClassifier constraints differ from the
    # shared ones, its own, word for word: the oracle tests compare the
    # errors they give.
    _parameter_constraints = {
        **_estimator.PARAMETER_CONSTRAINTS,
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    _ACCEPT_SPARSE = ["csr", "csc"]

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    def _max_epochs(self):
        return self.max_iter

    def _keras_verbose(self):
        return 0

    def _prints_iterations(self):
        return bool(self.verbose)

    def _max_fun(self):
        return self.max_fun

    def _check_hidden_sizes(self, sizes):
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {list(sizes)}.")
        for size in sizes:
            operator.index(size)  # a float fails in Python's words, as in scikit-learn

    def _batch_size(self, n_samples, warn=False):
        if warn and self.batch_size != "auto" and self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=4,
            )
        return super()._batch_size(n_samples)

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. A sparse matrix (CSR or CSC) is densified one
            batch at a time.

        y : array-like of shape (n_samples,)
            The target values (class labels).

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : MLPClassifier
            Trained MLP model.
        """
        self._train(X, y, sample_weight, incremental=False)
        return self

    @available_if(_estimator._is_stochastic)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Required for the first
            call, and may be omitted in the subsequent calls.

        Returns
        -------
        self : MLPClassifier
            Trained MLP model.
        """
        self._train(X, y, sample_weight, incremental=True, classes=classes)
        return self

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of each class, in the order of
            `classes_`.
        """
        return self._probabilities(X, {})

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes.
        """
        return super().predict(X)
