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

import numbers
from collections import defaultdict

import keras
import numpy as np
from scikeras.wrappers import BaseWrapper, KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from . import _fast
from ._compat import _LegacyTags, _TagsRoot

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
            "n_outputs_": 1,
            "n_outputs_expected_": 1,
        }


class KerasMLPClassifier(_LegacyTags, KerasClassifier, _TagsRoot):
    """Multi-layer perceptron classifier trained by Keras.

    A dense network, ``Dense(width, activation)`` for each entry of
    `hidden_layer_sizes` followed by a softmax layer with one unit per class,
    trained with sparse categorical cross-entropy. The input width and the
    number of classes come from the data passed to :meth:`fit`. The defaults
    are the classic Keras MNIST network: two hidden layers of 32 and 64 ReLU
    units, Adam, 10 epochs of batches of 100.

    This is a scikeras ``KerasClassifier``: it takes scikeras' routed
    parameters, ``fit__<name>`` for ``keras.Model.fit``, ``predict__<name>``
    for ``keras.Model.predict``, ``compile__<name>`` for
    ``keras.Model.compile``, ``optimizer__<name>`` for the optimizer and
    ``callbacks__<name>`` for callbacks given as classes.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(32, 64)
        The ith element is the number of units in the ith hidden layer, as in
        :class:`sklearn.neural_network.MLPClassifier`. An empty tuple gives
        multinomial logistic regression.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers, with scikit-learn's names. Keras
        names (``"sigmoid"``, ``"gelu"``, ...) are accepted too.

    optimizer : str, keras.optimizers.Optimizer class or instance, \
default="adam"
        The optimizer. A name or a class is created with
        ``learning_rate=learning_rate_init`` and any ``optimizer__<name>``
        parameters; an instance is copied from its own configuration (its
        learning rate wins over `learning_rate_init`).

    learning_rate_init : float, default=0.001
        Initial learning rate of the optimizer.

    epochs : int, default=10
        Number of passes over the training data.

    batch_size : int, default=100
        Number of samples per gradient update. Also the batch size of
        :meth:`predict`, unless ``predict__batch_size`` is given.

    shuffle : bool, default=True
        Whether to shuffle the training data before each epoch.

    validation_split : float, default=0.0
        Fraction of the training data held out (the last samples, before
        shuffling, as in Keras) to report ``val_loss`` and ``val_accuracy`` in
        `history_`.

    class_weight : dict, "balanced" or None, default=None
        Weights associated with classes, keyed by class label, as in
        scikit-learn. They multiply `sample_weight`.

    callbacks : list of keras.callbacks.Callback, default=None
        Keras callbacks for :meth:`fit` and :meth:`predict`.

    warm_start : bool, default=False
        When True, :meth:`fit` continues training the current network instead
        of building a new one.

    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation and the shuffling, so that a given
        int gives the same model every time on the same machine and backend.
        While fitting, it temporarily sets the global Python, NumPy and
        TensorFlow seeds and TensorFlow's op determinism (a scikeras
        mechanism), and restores them afterwards.

    verbose : int, default=0
        Keras' verbosity in :meth:`fit`: 0 silent, 1 progress bar, 2 one line
        per epoch.

    **kwargs
        Routed parameters, such as ``fit__validation_batch_size=1000`` or
        ``optimizer__beta_1=0.8``.

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

    model_ : keras.Model
        The trained network. :meth:`predict` and :meth:`predict_proba`
        evaluate a float64 copy of its dense layers in NumPy, taken after each
        fit; after setting its weights by hand, call ``model_.predict``
        instead, or refit.

    history_ : dict of str to list of float
        Per-epoch training record: ``loss`` and ``accuracy``, and
        ``val_loss`` and ``val_accuracy`` with a validation split.

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

    def __init__(
        self,
        hidden_layer_sizes=(32, 64),
        activation="relu",
        *,
        optimizer="adam",
        learning_rate_init=0.001,
        epochs=10,
        batch_size=100,
        shuffle=True,
        validation_split=0.0,
        class_weight=None,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.validation_split = validation_split
        self.class_weight = class_weight
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        for name, value in kwargs.items():
            setattr(self, name, value)

    __repr__ = BaseEstimator.__repr__

    # -- parameter checks ---------------------------------------------------

    def _check_params(self):
        """Validate the hyperparameters; return the hidden sizes as a tuple."""
        name = type(self).__name__

        def fail(param, value, expected, error=ValueError):
            raise error(
                f"The {param!r} parameter of {name} must be {expected}; got {value!r}."
            )

        def is_int(value):
            return isinstance(value, numbers.Integral) and not isinstance(value, bool)

        sizes = self.hidden_layer_sizes
        if is_int(sizes):
            sizes = (sizes,)
        try:
            sizes = tuple(sizes)
        except TypeError:
            fail("hidden_layer_sizes", self.hidden_layer_sizes, "a tuple of ints >= 1")
        if not all(is_int(s) and s >= 1 for s in sizes):
            fail("hidden_layer_sizes", self.hidden_layer_sizes, "a tuple of ints >= 1")
        for param in ("epochs", "batch_size"):
            value = getattr(self, param)
            if not (is_int(value) and value >= 1):
                fail(param, value, "an int >= 1")
        if not (is_int(self.verbose) and self.verbose >= 0):
            fail("verbose", self.verbose, "an int >= 0")
        lr = self.learning_rate_init
        if not (isinstance(lr, numbers.Real) and np.isfinite(lr) and lr > 0):
            fail("learning_rate_init", lr, "a float > 0")
        split = self.validation_split
        if not (isinstance(split, numbers.Real) and 0 <= split < 1):
            fail("validation_split", split, "a float in [0, 1)")
        activation = self.activation
        if not isinstance(activation, str) or (
            activation not in _ACTIVATIONS and not self._is_keras_activation(activation)
        ):
            fail(
                "activation",
                activation,
                f"one of {sorted(_ACTIVATIONS)} or the name of a Keras activation",
            )
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            fail("class_weight", cw, "a dict, 'balanced' or None")
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

    # -- data validation (replaces scikeras' checks) -------------------------

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        if y is not None:
            y, target_type = self._validate_target(y)
            if reset:
                self.target_type_ = target_type
        if X is not None:
            X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64])
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

    # -- network ----------------------------------------------------------------

    def _get_compile_kwargs(self):
        params = self.get_params(deep=False)
        optimizer = self.optimizer
        opt_params = _routed(params, "optimizer")
        if isinstance(optimizer, keras.optimizers.Optimizer):
            optimizer = optimizer.__class__.from_config(
                {**optimizer.get_config(), **opt_params}
            )
        elif isinstance(optimizer, type):
            optimizer = optimizer(
                **{"learning_rate": self.learning_rate_init, **opt_params}
            )
        else:
            try:
                optimizer = keras.optimizers.get(
                    {
                        "class_name": optimizer,
                        "config": {
                            "learning_rate": self.learning_rate_init,
                            **opt_params,
                        },
                    }
                )
            except (ValueError, TypeError):
                raise ValueError(
                    f"The 'optimizer' parameter of {type(self).__name__} must be the "
                    "name of a Keras optimizer (such as 'adam' or 'sgd'), an optimizer "
                    f"class or an instance; got {self.optimizer!r}."
                ) from None
        return {
            "optimizer": optimizer,
            "loss": _LOSS,
            "metrics": ["accuracy"],
            **_fast.compile_options(self._n_fit_samples, self.batch_size),
            **_routed(params, "compile"),
        }

    def _keras_build_fn(self, compile_kwargs):
        """Build and compile the network for the data seen in :meth:`fit`.

        Subclasses may override this scikeras hook to change the network; it
        runs after ``n_features_in_`` and ``n_classes_`` are set.
        """
        n_layers = len(self._hidden_sizes) + 1
        if self._random_state is None:
            seeds = iter([None] * n_layers)
        else:
            rng = np.random.RandomState(self._random_state)
            seeds = iter(rng.randint(np.iinfo(np.int32).max, size=n_layers).tolist())
        activation = _ACTIVATIONS.get(self.activation, self.activation)

        def dense(units, activation, name):
            seed = next(seeds)  # one seed per layer: same random_state, same weights
            return keras.layers.Dense(
                units,
                activation=activation,
                kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                name=name,
            )

        inputs = keras.Input(shape=(self.n_features_in_,), name="features")
        x = inputs
        for i, units in enumerate(self._hidden_sizes):
            x = dense(units, activation, f"hidden_{i + 1}")(x)
        outputs = dense(self.n_classes_, "softmax", "probabilities")(x)
        model = keras.Model(inputs, outputs, name="mlp")
        model.compile(**compile_kwargs)
        return model

    def _build_keras_model(self):
        return self._keras_build_fn(self._get_compile_kwargs())

    # -- training ---------------------------------------------------------------

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build the network for ``(X, y)`` and train it.

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
        BaseWrapper.fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one epoch on ``(X, y)``, building the network on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen; needed on the first call when
            ``y`` does not contain them all.

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
        if classes is not None:
            self.classes_ = classes
        elif not hasattr(self, "classes_"):
            self.classes_ = None
        BaseWrapper.partial_fit(self, X, y, sample_weight=sample_weight, **kwargs)
        return self

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, self.classes_[y])
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
        fit_args = {
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            "shuffle": self.shuffle,
            "validation_split": self.validation_split,
            **_routed(self.get_params(deep=False), "fit"),
            **kwargs,
        }
        fit_args.pop("callbacks", None)  # scikeras gathered them in _fit_callbacks
        batch_size = fit_args.pop("batch_size")
        shuffle = fit_args.pop("shuffle")
        split = fit_args.pop("validation_split")
        if split and "validation_data" not in fit_args:
            # Keras' rule: the last samples, before any shuffling.
            cut = int(len(X) * (1 - split))
            fit_args["validation_data"] = (X[cut:], y[cut:])
            X, y = X[:cut], y[:cut]
            sample_weight = None if sample_weight is None else sample_weight[:cut]
        data, data_args = _fast.training_data(
            X,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=self._shuffle_seed(initial_epoch),
            steps_per_execution=self.model_.steps_per_execution,
        )
        history = self.model_.fit(
            data,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            callbacks=self._fit_callbacks,
            shuffle=False,  # the data shuffles itself, with its own seed
            **data_args,
            **fit_args,
        )

        if not (warm_start and hasattr(self, "history_")) or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += [float(v) for v in values]
        # predict evaluates this copy of the new weights (False: Keras must).
        self._dense_stack = _fast.dense_stack(self.model_) or False

    def _shuffle_seed(self, initial_epoch):
        """The seed of this fit's shuffling: distinct for each continued fit."""
        if self._random_state is None:
            return None
        entropy = [int(self._random_state) % 2**32, initial_epoch]
        return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)

    # -- model files (skmnist.persistence) ------------------------------------------

    # Attributes rebuilt from the others rather than stored.
    _DERIVED_STATE = ("model_", "target_encoder_", "feature_encoder_")
    _PRIVATE_STATE = ("_n_fit_samples",)

    def _persistent_state(self):
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

    def _restore(self, state, weights):
        """Become the fitted classifier :meth:`_persistent_state` described."""
        self._hidden_sizes = self._check_params()
        if not (self.random_state is None or isinstance(self.random_state, int)):
            raise TypeError("random_state must be an int or None in a model file")
        self._random_state = self.random_state
        vars(self).update(state)
        self.history_ = defaultdict(list, self.history_)
        self.target_encoder_ = self.target_encoder.fit(self.classes_)
        features = np.zeros((1, self.n_features_in_), dtype=np.float32)
        self.feature_encoder_ = self.feature_encoder.fit(features)
        self.model_ = self._build_keras_model()
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
