"""A multi-layer perceptron classifier trained by Keras, as a scikeras wrapper.

:class:`KerasMLPClassifier` subclasses scikeras' ``KerasClassifier``. It builds
its network from the data it is fitted on (input width, number of classes) and
fixes what stock scikeras gets wrong on current scikit-learn: the classifier
tags, label handling, input validation at predict time and the handling of
``class_weight`` and ``sample_weight``.

Importing this module imports Keras (and its backend); :mod:`skmnist` imports
it only when :class:`KerasMLPClassifier` is first used.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from collections import defaultdict
from numbers import Integral, Real

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from . import _fast, _training
from ._compat import Interval, InvalidParameterError, StrOptions, _LegacyTags, _TagsRoot

__all__ = ["KerasMLPClassifier"]

# sklearn's MLPClassifier activation names, and the Keras name of each.
_ACTIVATIONS = {
    "identity": "linear",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
}
# Prefixes scikeras routes to Keras: fit__batch_size goes to Model.fit, etc.
_ROUTING_PREFIXES = ("fit", "predict", "compile", "optimizer", "callbacks")
_LOSS = "sparse_categorical_crossentropy"

# Before TensorFlow runs its first operation in this process: afterwards its
# thread pools can no longer be sized.
_fast.limit_threads()


def _routed(params, destination):
    """The parameters ``destination__name`` of ``params``, as ``{name: value}``."""
    prefix = destination + "__"
    return {
        key[len(prefix) :]: value
        for key, value in params.items()
        if key.startswith(prefix) and "__" not in key[len(prefix) :]
    }


class _LabelEncoder(BaseEstimator):
    """Map class labels to the integers 0..n_classes-1 and back.

    The scikeras target encoder protocol: ``fit``, ``transform``,
    ``inverse_transform(y, return_proba=False)`` and ``get_metadata``.
    """

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, y):
        classes = unique_labels(y if self.classes is None else self.classes)
        if len(classes) < 2:
            raise ValueError(
                "KerasMLPClassifier needs samples of at least 2 classes, but the "
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


@keras.saving.register_keras_serializable(package="skmnist")
class _GlorotUniform(keras.initializers.Initializer):
    """Glorot-uniform weights drawn by NumPy from a seed.

    Keras' own initializers run the backend's random ops, which JAX first has
    to compile (about a second in a fresh process); NumPy draws at once, and
    the same seed gives the same initial weights on every backend.
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        limit = np.sqrt(6 / (shape[0] + shape[-1]))
        values = np.random.default_rng(self.seed).uniform(-limit, limit, shape)
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


class KerasMLPClassifier(_LegacyTags, KerasClassifier, _TagsRoot):
    """Multi-layer perceptron classifier trained by Keras.

    A dense network, ``Dense(width, activation)`` for each entry of
    `hidden_layer_sizes` followed by a softmax layer with one unit per class,
    trained with sparse categorical cross-entropy. The input width and the
    number of classes come from the data passed to :meth:`fit`. The defaults
    are the classic Keras MNIST network: two hidden layers of 32 and 64 ReLU
    units, Adam, 10 epochs of batches of 100.

    The parameters are those of :class:`sklearn.neural_network.MLPClassifier`
    with the same names and meanings, so that a parameter grid written for it
    runs here unchanged; ``epochs`` plays the part of ``max_iter``. The
    defaults differ where the classic network does: ``alpha=0`` and
    ``batch_size=100``.

    This is also a scikeras ``KerasClassifier``: it takes scikeras' routed
    parameters, ``fit__<name>`` for ``keras.Model.fit``, ``predict__<name>``
    for ``keras.Model.predict``, ``compile__<name>`` for
    ``keras.Model.compile``, ``optimizer__<name>`` for the optimizer and
    ``callbacks__<name>`` for callbacks given as classes.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(32, 64)
        The ith element is the number of units in the ith hidden layer. An
        empty tuple gives multinomial logistic regression.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers. Keras names (``"sigmoid"``,
        ``"gelu"``, ...) are accepted too.

    solver : {"adam", "sgd"}, default="adam"
        The optimizer: Adam with `beta_1`, `beta_2` and `epsilon`, or
        stochastic gradient descent with `momentum`, `nesterovs_momentum` and
        the `learning_rate` schedule. See `optimizer` for any other Keras
        optimizer.

    alpha : float, default=0.0
        Strength of the L2 penalty on the weights (not the biases), scaled as
        in ``MLPClassifier``: ``alpha / 2`` times their squared norm, divided
        by the batch size, is added to each batch's loss.

    batch_size : int or "auto", default=100
        Number of samples per gradient update; ``"auto"`` is
        ``min(200, n_samples)``. Also the batch size of Keras' predict loop
        when it is used.

    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Learning rate schedule of the ``"sgd"`` solver, as in
        ``MLPClassifier``: constant; divided by ``(t + 1) ** power_t`` with
        ``t`` the samples seen before each epoch; or divided by 5 each time
        progress stalls for more than `n_iter_no_change` epochs.

    learning_rate_init : float, default=0.001
        Initial learning rate.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    epochs : int, default=10
        Maximum number of passes over the training data (``MLPClassifier``'s
        ``max_iter``). Training stops earlier when the loss, or with
        `early_stopping` the validation accuracy, fails to improve by `tol`
        for more than `n_iter_no_change` consecutive epochs.

    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, dropout, the validation split and the
        shuffling, so that a given int gives the same model every time on the
        same machine and backend. Global random state is neither used nor
        changed.

    tol : float, default=1e-4
        Least improvement of the loss (or validation accuracy) that counts as
        progress.

    verbose : int, default=0
        Keras' verbosity in :meth:`fit`: 0 silent, 1 progress bar, 2 one line
        per epoch.

    warm_start : bool, default=False
        When True, :meth:`fit` continues training the current network (and
        its records, such as `loss_curve_`) instead of building a new one.

    momentum : float, default=0.9
        Momentum of the ``"sgd"`` solver.

    nesterovs_momentum : bool, default=True
        Whether the ``"sgd"`` solver uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out `validation_fraction` of the training data (stratified, drawn
        with `random_state`), stop when its accuracy fails to improve by `tol`
        for more than `n_iter_no_change` epochs, and keep the weights of the
        best epoch. Not used by :meth:`partial_fit`.

    validation_fraction : float, default=0.1
        Share of the training data held out when `early_stopping` is True.

    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of Adam's moment estimates.

    epsilon : float, default=1e-8
        Adam's numerical stability constant.

    n_iter_no_change : int, default=10
        Epochs without progress tolerated before stopping (or, with the
        ``"adaptive"`` schedule, before the learning rate drops).

    dropout : float, default=0.0
        Dropout rate after each hidden layer while training.

    class_weight : dict, "balanced" or None, default=None
        Weights associated with classes, keyed by class label, as in
        scikit-learn. They multiply `sample_weight`.

    validation_split : float, default=0.0
        Share of the training data held out (stratified, drawn with
        `random_state`) only to record ``val_loss`` and ``val_accuracy`` in
        `history_`, without early stopping. Ignored when `early_stopping` is
        True, which holds out `validation_fraction`.

    optimizer : str, keras.optimizers.Optimizer class or instance, default=None
        Any Keras optimizer, instead of `solver`. A name or a class is created
        with ``learning_rate=learning_rate_init`` and any
        ``optimizer__<name>`` parameters; an instance is copied from its own
        configuration.

    callbacks : list of keras.callbacks.Callback, default=None
        Keras callbacks for :meth:`fit` and :meth:`predict`.

    **kwargs
        Routed parameters, such as ``fit__validation_batch_size=1000`` or
        ``optimizer__amsgrad=True``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, in sorted order; the columns of :meth:`predict_proba`.

    n_classes_ : int
        Number of classes.

    n_features_in_ : int
        Number of features seen during :meth:`fit`.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, for DataFrames with string
        column names.

    n_iter_ : int
        Epochs trained, over all calls when training continues.

    t_ : int
        Training samples seen, over all calls when training continues.

    loss_ : float
        Training loss of the last epoch (cross-entropy plus the L2 penalty).

    loss_curve_ : list of float
        Training loss of each epoch.

    best_loss_ : float or None
        Lowest training loss; None with `early_stopping`.

    validation_scores_ : list of float or None
        Validation accuracy of each epoch with `early_stopping`, else None.

    best_validation_score_ : float or None
        Best validation accuracy with `early_stopping`, else None.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units: one per class (binary problems too, with a
        softmax, where ``MLPClassifier`` uses one logistic unit).

    out_activation_ : str
        Activation of the output layer, ``"softmax"``.

    coefs_ : list of ndarray
        Weight matrix of each layer, from the Keras model.

    intercepts_ : list of ndarray
        Bias vector of each layer, from the Keras model.

    model_ : keras.Model
        The trained network. :meth:`predict` and :meth:`predict_proba`
        evaluate a float64 copy of its dense layers in NumPy, taken after each
        fit; after setting its weights by hand, call ``model_.predict``
        instead, or refit.

    history_ : dict of str to list of float
        Keras' per-epoch record: ``loss`` and ``accuracy``, and ``val_loss``
        and ``val_accuracy`` with a validation set.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same kind of network in NumPy.
    skmnist.make_mnist_pipeline : This classifier behind an image flattener.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import KerasMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = KerasMLPClassifier(epochs=30, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)  # doctest: +SKIP
    array([0, 1, 2])
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [str],
        "solver": [StrOptions({"adam", "sgd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [str, type, keras.optimizers.Optimizer, None],
        "callbacks": [list, dict, keras.callbacks.Callback, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(32, 64),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0,
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        epochs=10,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        dropout=0.0,
        class_weight=None,
        validation_split=0.0,
        optimizer=None,
        callbacks=None,
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.epochs = epochs
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
        self.dropout = dropout
        self.class_weight = class_weight
        self.validation_split = validation_split
        self.optimizer = optimizer
        self.callbacks = callbacks
        for name, value in kwargs.items():
            setattr(self, name, value)

    __repr__ = BaseEstimator.__repr__

    # -- parameter checks ---------------------------------------------------

    def _check_params(self):
        """Validate the hyperparameters; return the hidden sizes as a tuple.

        scikit-learn's parameter validation checks each parameter's type and
        range (raising ``InvalidParameterError``, a ``ValueError`` and
        ``TypeError``); what it cannot express is checked here, with the same
        wording.
        """
        self._validate_params()
        name = type(self).__name__
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {name} must be a sequence of "
                f"ints >= 1. Got {self.hidden_layer_sizes!r} instead."
            )
        activation = self.activation
        if activation not in _ACTIVATIONS and not self._is_keras_activation(activation):
            raise InvalidParameterError(
                f"The 'activation' parameter of {name} must be one of "
                f"{sorted(_ACTIVATIONS)} or the name of a Keras activation. Got "
                f"{activation!r} instead."
            )
        unknown = sorted(
            key
            for key in self.get_params(deep=False)
            if "__" in key and key.split("__", 1)[0] not in _ROUTING_PREFIXES
        )
        if unknown:
            raise TypeError(
                f"{name} got unknown parameter(s) {unknown}. Parameters routed to "
                f"Keras start with one of {[p + '__' for p in _ROUTING_PREFIXES]}; "
                f"the others are {sorted(self._get_param_names_from_init())}."
            )
        return sizes

    @staticmethod
    def _is_keras_activation(name):
        try:
            keras.activations.get(name)
        except (ValueError, TypeError):
            return False
        return True

    @classmethod
    def _get_param_names_from_init(cls):
        return BaseEstimator._get_param_names.__func__(cls)

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return self.batch_size

    @property
    def _schedule(self):
        """The learning-rate schedule in force: only the SGD solver has one."""
        if self.solver == "sgd" and self.optimizer is None:
            return self.learning_rate
        return "constant"

    # -- data validation (replaces scikeras' checks) -------------------------

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if reset and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: fit needs one class label per sample."
            )
        if y is not None:
            y, target_type = self._validate_target(y)
            if reset:
                self.target_type_ = target_type
        # Only score passes X=None, to check its y alone.
        if X is not None or y is None or reset:
            X = validate_data(self, X, reset=reset, dtype="numeric")
            if reset:
                self._n_fit_samples = len(X)
            X = np.asarray(X, dtype=np.float32, order="C")
            if y is not None and len(X) != len(y):
                raise ValueError(
                    f"X and y have different numbers of samples: {len(X)} and {len(y)}."
                )
        return X, y

    def _validate_target(self, y):
        target_type = type_of_target(y, input_name="y")
        if target_type == "multilabel-indicator" and np.all(
            np.asarray(y).sum(axis=1) == 1
        ):
            raise ValueError(
                "KerasMLPClassifier takes one label per sample; y looks one-hot "
                "encoded. Pass the labels instead, for example y.argmax(axis=1)."
            )
        if target_type == "unknown":
            raise ValueError(
                "Unknown label type: KerasMLPClassifier needs one class label per "
                "sample (ints, strings or bools in a 1-D y); got values of type "
                f"{np.asarray(y).dtype} that are not labels."
            )
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                "KerasMLPClassifier supports binary and multiclass targets (one "
                f"class label per sample); got a {target_type!r} target. For "
                "multilabel targets wrap it in sklearn.multioutput.MultiOutputClassifier; "
                "for continuous targets use a regressor."
            )
        return column_or_1d(y, warn=True), target_type

    @property
    def target_encoder(self):
        """The unfitted label encoder (scikeras hook); fitted as ``target_encoder_``."""
        return _LabelEncoder(classes=self.classes_)

    def _initialize(self, X, y=None):
        """Validate the data and build a new network for it (scikeras hook)."""
        self._random_state = self._seed()
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = self._build_keras_model()
        self._initialize_callbacks()
        return X, y

    def _seed(self):
        """`random_state` as an int seed; a RandomState is read, not advanced."""
        if isinstance(self.random_state, np.random.RandomState):
            rng = np.random.RandomState()
            rng.set_state(self.random_state.get_state())
            return int(rng.randint(np.iinfo(np.int32).max))
        return self.random_state

    # -- network ----------------------------------------------------------------

    def _make_optimizer(self):
        opt_params = _routed(self.get_params(deep=False), "optimizer")
        optimizer = self.optimizer
        if optimizer is None:
            if self.solver == "sgd":
                defaults = {
                    "momentum": self.momentum,
                    "nesterov": self.nesterovs_momentum,
                }
                optimizer = keras.optimizers.SGD
            else:
                defaults = {
                    "beta_1": self.beta_1,
                    "beta_2": self.beta_2,
                    "epsilon": self.epsilon,
                }
                optimizer = keras.optimizers.Adam
            return optimizer(
                learning_rate=self.learning_rate_init, **{**defaults, **opt_params}
            )
        if isinstance(optimizer, keras.optimizers.Optimizer):
            return optimizer.__class__.from_config(
                {**optimizer.get_config(), **opt_params}
            )
        config = {"learning_rate": self.learning_rate_init, **opt_params}
        if isinstance(optimizer, type):
            return optimizer(**config)
        try:
            return keras.optimizers.get({"class_name": optimizer, "config": config})
        except (ValueError, TypeError):
            raise InvalidParameterError(
                f"The 'optimizer' parameter of {type(self).__name__} must be the name "
                "of a Keras optimizer (such as 'adam' or 'sgd'), an optimizer class or "
                f"an instance. Got {self.optimizer!r} instead."
            ) from None

    def _get_compile_kwargs(self):
        n_samples = self._n_fit_samples
        return {
            "optimizer": self._make_optimizer(),
            "loss": _LOSS,
            "metrics": ["accuracy"],
            **_fast.compile_options(n_samples, self._batch_size(n_samples)),
            **_routed(self.get_params(deep=False), "compile"),
        }

    def _keras_build_fn(self, compile_kwargs):
        """Build and compile the network for the data seen in :meth:`fit`.

        Subclasses may override this scikeras hook to change the network; it
        runs after ``n_features_in_`` and ``n_classes_`` are set.
        """
        n_hidden = len(self._hidden_sizes)
        n_seeds = 2 * n_hidden + 1  # each dense layer, each dropout layer
        if self._random_state is None:
            seeds = iter([None] * n_seeds)
        else:
            rng = np.random.RandomState(self._random_state)
            seeds = iter(rng.randint(np.iinfo(np.int32).max, size=n_seeds).tolist())
        activation = _ACTIVATIONS.get(self.activation, self.activation)
        regularizer = None
        if self.alpha:
            batch_size = self._batch_size(self._n_fit_samples)
            regularizer = keras.regularizers.L2(0.5 * self.alpha / batch_size)

        def dense(units, activation, name):
            seed = next(seeds)  # one seed per layer: same random_state, same weights
            return keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=_GlorotUniform(seed),
                kernel_regularizer=regularizer,
                name=name,
            )

        inputs = keras.Input(shape=(self.n_features_in_,), name="features")
        x = inputs
        for i, units in enumerate(self._hidden_sizes):
            x = dense(units, activation, f"hidden_{i + 1}")(x)
            seed = next(seeds)
            if self.dropout:
                x = keras.layers.Dropout(
                    self.dropout, seed=seed, name=f"dropout_{i + 1}"
                )(x)
        outputs = dense(self.n_classes_, "softmax", "probabilities")(x)
        model = keras.Model(inputs, outputs, name="mlp")
        model.compile(**compile_kwargs)
        return model

    def _build_keras_model(self):
        # A new network starts a new training record.
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = None
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = []
        self.best_validation_score_ = -np.inf
        self._no_improvement_count = 0
        self.history_ = defaultdict(list)
        return self._keras_build_fn(self._get_compile_kwargs())

    @property
    def n_layers_(self):
        """Number of layers, input and output included."""
        check_is_fitted(self)
        return len(self.coefs_) + 1

    @property
    def out_activation_(self):
        """Activation of the output layer."""
        check_is_fitted(self)
        return "softmax"

    @property
    def coefs_(self):
        """Weight matrix of each dense layer, as NumPy arrays."""
        return self._dense_weights()[0]

    @property
    def intercepts_(self):
        """Bias vector of each dense layer, as NumPy arrays."""
        return self._dense_weights()[1]

    def _dense_weights(self):
        check_is_fitted(self)
        dense = [
            layer
            for layer in self.model_.layers
            if isinstance(layer, keras.layers.Dense)
        ]
        coefs = [keras.ops.convert_to_numpy(layer.kernel) for layer in dense]
        intercepts = [keras.ops.convert_to_numpy(layer.bias) for layer in dense]
        return coefs, intercepts

    # -- training ---------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build the network for ``(X, y)`` and train it.

        With ``warm_start=True`` and a fitted network, training continues
        from the current weights instead.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; DataFrames and nested lists are accepted.

        y : array-like of shape (n_samples,)
            Class labels: ints, strings, bools or any labels scikit-learn
            accepts for classification.

        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights, multiplied by `class_weight`.

        **kwargs : dict
            Extra arguments for ``keras.Model.fit``. Prefer ``fit__<name>``
            parameters, which survive :func:`sklearn.base.clone`.

        Returns
        -------
        self : KerasMLPClassifier
            The fitted classifier.
        """
        self._hidden_sizes = self._check_params()
        if not (self.warm_start and self.initialized_):
            self.classes_ = None  # the target encoder learns them from y
        # KerasClassifier.fit is skipped: it multiplies class weights into the
        # caller's sample_weight array in place. _fit_keras_model applies them.
        self._fit(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=self.warm_start,
            epochs=self.epochs,
            initial_epoch=0,
            **kwargs,
        )
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one epoch on ``(X, y)``, building the network on the first call.

        Each call continues from the weights and records the previous ones
        left; `early_stopping` and `validation_split` are not used.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen. Required on the first call,
            ignored on later ones, as in scikit-learn.

        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        **kwargs : dict
            Extra arguments for ``keras.Model.fit``.

        Returns
        -------
        self : KerasMLPClassifier
            The updated classifier.
        """
        self._hidden_sizes = self._check_params()
        if not self.initialized_:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: the "
                    "network needs one output per class that will ever be seen."
                )
            self.classes_ = classes
        self._fit(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=True,
            epochs=1,
            initial_epoch=0,
            _incremental=True,
            **kwargs,
        )
        return self

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        incremental = kwargs.pop("_incremental", False)
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, self.classes_[y])
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
        fit_args = {
            "verbose": self.verbose,
            **_routed(self.get_params(deep=False), "fit"),
            **kwargs,
        }
        fit_args.pop("callbacks", None)  # scikeras gathered them in _fit_callbacks
        fit_args.pop("shuffle", None)  # the data shuffles itself, with its own seed
        batch_size = fit_args.pop("batch_size", None) or self._batch_size(len(X))
        early_stopping = self.early_stopping and not incremental
        split = fit_args.pop("validation_split", self.validation_split)
        if early_stopping:
            split = self.validation_fraction
        if split and not incremental and "validation_data" not in fit_args:
            X, y, sample_weight, validation = self._hold_out(X, y, sample_weight, split)
            fit_args["validation_data"] = validation
        if early_stopping:
            self.best_loss_ = None
            if self.validation_scores_ is None:
                self.validation_scores_, self.best_validation_score_ = [], -np.inf
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            if self.best_loss_ is None:
                self.best_loss_ = np.inf
        callbacks = [
            _training.MLPMonitor(self, len(X), early_stopping),
            *self._fit_callbacks,
        ]
        seed = self._shuffle_seed(self.n_iter_)
        history = None
        if set(fit_args) <= {"verbose", "validation_data"}:
            history = _fast.train(
                self.model_,
                X,
                y,
                sample_weight,
                batch_size=batch_size,
                epochs=self.n_iter_ + epochs,
                initial_epoch=self.n_iter_,
                shuffle=self.shuffle,
                seed=seed,
                callbacks=callbacks,
                validation_data=fit_args.get("validation_data"),
                verbose=fit_args["verbose"],
            )
        if history is None:  # a short fit, or arguments only Model.fit takes
            data = _fast.training_data(
                X,
                y,
                sample_weight,
                batch_size=batch_size,
                shuffle=self.shuffle,
                seed=seed,
            )
            history = self.model_.fit(
                data,
                epochs=self.n_iter_ + epochs,
                initial_epoch=self.n_iter_,
                callbacks=callbacks,
                shuffle=False,
                **fit_args,
            ).history
        for key, values in history.items():
            self.history_[key] += [float(v) for v in values]
        # predict evaluates this copy of the new weights (False: Keras must).
        self._dense_stack = _fast.dense_stack(self.model_) or False

    def _hold_out(self, X, y, sample_weight, fraction):
        """Split off a stratified validation set, drawn with `random_state`."""
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        parts = train_test_split(
            *arrays,
            test_size=fraction,
            random_state=self._random_state,
            stratify=y,
        )
        train, held_out = parts[0::2], parts[1::2]
        if sample_weight is None:
            return train[0], train[1], None, tuple(held_out)
        return train[0], train[1], train[2], tuple(held_out[:2])

    def _shuffle_seed(self, epoch):
        """The seed of the shuffling from ``epoch`` on: distinct for each continued fit."""
        if self._random_state is None:
            return None
        entropy = [int(self._random_state) % 2**32, epoch]
        return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)

    # -- model files (skmnist.persistence) ------------------------------------------

    # Attributes rebuilt from the others rather than stored.
    _DERIVED_STATE = ("model_", "target_encoder_", "feature_encoder_")

    def __skmnist_getstate__(self):
        """The fitted attributes and network weights a model file stores."""
        state = {
            key: value
            for key, value in vars(self).items()
            if key.endswith("_")
            and not key.startswith("_")
            and key not in self._DERIVED_STATE
        }
        state["_n_fit_samples"] = self._n_fit_samples
        return state, self.model_.get_weights()

    def __skmnist_setstate__(self, state, weights):
        """Become the fitted classifier :meth:`_persistent_state` described."""
        self._hidden_sizes = self._check_params()
        if not (self.random_state is None or isinstance(self.random_state, int)):
            raise TypeError("random_state must be an int or None in a model file")
        self._random_state = self.random_state
        vars(self).update(state)
        self.history_ = defaultdict(list, self.history_)
        self._no_improvement_count = 0
        self.target_encoder_ = self.target_encoder.fit(self.classes_)
        features = np.zeros((1, self.n_features_in_), dtype=np.float32)
        self.feature_encoder_ = self.feature_encoder.fit(features)
        self.model_ = self._keras_build_fn(self._get_compile_kwargs())
        expected = [tuple(w.shape) for w in self.model_.get_weights()]
        if [w.shape for w in weights] != expected:
            raise ValueError(
                f"the weights have shapes {[w.shape for w in weights]}, but the "
                f"network its parameters describe needs {expected}"
            )
        self.model_.set_weights(weights)
        self._initialize_callbacks()
        self._dense_stack = _fast.dense_stack(self.model_) or False

    # -- prediction --------------------------------------------------------------

    def _predict_raw(self, X, **kwargs):
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        routed = _routed(self.get_params(deep=False), "predict")
        if (
            routed
            or kwargs
            or self._predict_callbacks
            or not getattr(self, "_dense_stack", None)
        ):
            # Keras' own predict loop: for predict arguments and callbacks, and
            # for networks NumPy cannot evaluate.
            return super()._predict_raw(X, **kwargs)
        X, _ = self._validate_data(X)
        return _fast.forward(self._dense_stack, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.input_tags.sparse = False
        return tags
