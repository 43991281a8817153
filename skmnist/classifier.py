"""Multi-layer perceptron classifiers trained by Keras, as scikeras wrappers.

Two public faces on one engine (``_BaseMLP``, a scikeras ``KerasClassifier``):
:class:`KerasMLPClassifier`, the classic Keras MNIST network with ``epochs``
and Keras' options, and :class:`MLPClassifier`, scikit-learn's
``MLPClassifier`` signature and behaviour, a drop-in replacement. This
module holds their parameters, ``fit``, ``partial_fit``, the predictions and
the tags. The parts behind it each have a module: the
network (:mod:`skmnist._network`), the optimizer and its schedule
(:mod:`skmnist._optimizer`), class labels (:mod:`skmnist._targets`), the
training run (:mod:`skmnist._training`), the compiled epochs and the NumPy
forward pass (:mod:`skmnist._fast`), and what works around scikeras and
scikit-learn (:mod:`skmnist._compat`).

Importing this module imports Keras (and its backend); :mod:`skmnist` imports
it only when one of the classifiers is first used.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from . import (
    _compat,
    _fast,
    _interrupt,
    _network,
    _optimizer,
    _targets,
    _training,
    _validation,
)
from ._compat import Interval, InvalidParameterError, Options, StrOptions

__all__ = ["KerasMLPClassifier", "MLPClassifier"]

_LOSS = "sparse_categorical_crossentropy"


class _BaseMLP(
    _compat.ScikerasFixes, _compat.LegacyTags, KerasClassifier, _compat.TagsRoot
):
    """The engine behind both public classifiers: checks, training, predictions.

    :class:`KerasMLPClassifier` and :class:`MLPClassifier` are its two faces:
    each brings its parameters (and their defaults and constraints), and
    answers the hooks below; everything else is shared.
    """

    # The sparse formats X may take (False: dense only).
    _ACCEPT_SPARSE = False

    # What the Keras-only parameters are when a face does not have them.
    _KERAS_DEFAULTS = {
        "dropout": 0.0,
        "class_weight": None,
        "validation_split": 0.0,
        "optimizer": None,
        "callbacks": None,
    }

    def _max_epochs(self):
        """Most epochs of one :meth:`fit` call (`epochs` or `max_iter`)."""
        raise NotImplementedError

    def _keras_verbose(self):
        """Keras' verbosity level for its training and predict loops."""
        raise NotImplementedError

    def _prints_iterations(self):
        """Whether each epoch prints MLPClassifier's ``Iteration N`` line."""
        raise NotImplementedError

    def _engine_params(self):
        """The parameters, with the Keras-only ones this face lacks at defaults."""
        return {**self._KERAS_DEFAULTS, **self.get_params(deep=False)}

    # -- parameters -----------------------------------------------------------

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
        self._check_hidden_sizes(sizes)
        if not _network.is_activation(self.activation):
            raise InvalidParameterError(
                f"The 'activation' parameter of {name} must be one of "
                f"{sorted(_network.ACTIVATIONS)} or the name of a Keras activation. "
                f"Got {self.activation!r} instead."
            )
        for key in self.get_params(deep=False):
            _compat.check_param_name(type(self), key)
        return tuple(int(s) for s in sizes)

    def _check_hidden_sizes(self, sizes):
        if not all(isinstance(s, Integral) and s >= 1 for s in sizes):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must "
                f"be a sequence of ints >= 1. Got {self.hidden_layer_sizes!r} instead."
            )

    def _batch_size(self, n_samples, warn=False):
        """Samples per batch: `batch_size`, at most ``n_samples``."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _seed(self):
        """`random_state` as an int seed; a RandomState is read, not advanced."""
        if isinstance(self.random_state, np.random.RandomState):
            rng = np.random.RandomState()
            rng.set_state(self.random_state.get_state())
            return int(rng.randint(np.iinfo(np.int32).max))
        return self.random_state

    # -- data -------------------------------------------------------------------

    def _check_X(self, X, reset=False, finite=True):
        """``X`` as C-ordered float32 rows (or CSR), checked against what fit saw.

        With ``finite=False`` a plain array's numbers are not checked for
        NaN and infinities: the caller checks them itself.
        """
        if not reset and _validation.passes_unchanged(
            self, X, ((getattr(self, "n_features_in_", None),),), finite=finite
        ):
            return np.asarray(X, dtype=np.float32, order="C")
        X = validate_data(
            self, X, reset=reset, dtype="numeric", accept_sparse=self._ACCEPT_SPARSE
        )
        if _fast.is_sparse(X):
            return X.tocsr().astype(np.float32)
        return np.asarray(X, dtype=np.float32, order="C")

    def _check_X_y(self, X, y, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                "None: fit needs one class label per sample."
            )
        y, target_type = _targets.check_target(y, type(self).__name__)
        X = self._check_X(X, reset=reset)
        if X.shape[0] != len(y):
            raise ValueError(
                f"X and y have different numbers of samples: {X.shape[0]} and {len(y)}."
            )
        if reset:
            self.target_type_ = target_type
            self._n_fit_samples = X.shape[0]
        return X, y

    @property
    def target_encoder(self):
        """The unfitted label encoder (scikeras hook); fitted as ``target_encoder_``."""
        return _targets.LabelEncoder(estimator_name=type(self).__name__)

    # -- network ----------------------------------------------------------------

    def _build_network(self, hidden_sizes):
        """A new compiled network for the data seen when it started."""
        n_samples = self._n_fit_samples
        batch_size = self._batch_size(n_samples)
        model = _network.build(
            n_features=self.n_features_in_,
            n_outputs=self.n_classes_,
            hidden_layer_sizes=hidden_sizes,
            activation=self.activation,
            dropout=float(self._engine_params()["dropout"]),
            # MLPClassifier's penalty: alpha / 2 times the squared norm, per sample
            l2=0.5 * float(self.alpha) / batch_size,
            seed=self._random_state,
        )
        params = self._engine_params()
        model.compile(
            optimizer=_optimizer.make(
                params, _compat.routed(params, "optimizer"), type(self).__name__
            ),
            loss=_LOSS,
            metrics=["accuracy"],
            **_fast.compile_options(n_samples, batch_size, self._max_epochs()),
            **_compat.routed(params, "compile"),
        )
        return model

    def _start(self, X, y, classes, hidden_sizes):
        """Check the data, learn its classes and build a new network for it."""
        self._random_state = self._seed()
        X, y = self._check_X_y(X, y, reset=True)
        encoder = self.target_encoder
        if classes is not None:
            encoder.set_params(classes=classes)
        self.target_encoder_ = encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = self._build_network(hidden_sizes)
        vars(self).update(_training.Record().attributes())  # a new training record
        self._no_improvement_count = 0
        self._initialize_callbacks()
        return X, y

    def initialize(self, X, y):
        """Build the network for ``(X, y)`` without training it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data of the shape the network will take.

        y : array-like of shape (n_samples,)
            Class labels; the network gets one output per class.

        Returns
        -------
        self : KerasMLPClassifier
            The classifier, ready to predict or to continue training.
        """
        _fast.prepare_backend()
        self._start(X, y, None, self._check_params())
        self._dense_stack = _fast.dense_stack(self.model_) or False
        return self

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
        check_is_fitted(self)
        return _network.dense_weights(self.model_)[0]

    @property
    def intercepts_(self):
        """Bias vector of each dense layer, as NumPy arrays."""
        check_is_fitted(self)
        return _network.dense_weights(self.model_)[1]

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
        self._train(X, y, sample_weight, incremental=False, **kwargs)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train one epoch on ``(X, y)``, building the network on the first call.

        Each call continues from the weights and records the previous ones
        left; `validation_split` is not used, and `early_stopping` must be
        False, as in scikit-learn.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Class labels.

        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen. Required on the first call;
            on later ones it may be given again, but not changed.

        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        **kwargs : dict
            Extra arguments for ``keras.Model.fit``.

        Returns
        -------
        self : KerasMLPClassifier
            The updated classifier.
        """
        self._train(X, y, sample_weight, incremental=True, classes=classes, **kwargs)
        return self

    def _check_partial_fit(self, classes):
        """scikit-learn's checks (and words) for a call to partial_fit."""
        known = getattr(self, "classes_", None) if self.initialized_ else None
        if known is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if known is not None and classes is not None:
            if not np.array_equal(known, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call "
                    f"to partial_fit, was: {known!r}"
                )
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def _check_same_classes(self, y, incremental):
        """scikit-learn's checks of the labels a continued training gets."""
        classes = unique_labels(y)
        if self.warm_start:
            if set(classes) != set(self.classes_):
                raise ValueError(
                    "warm_start can only be used where `y` has the same "
                    "classes as in the previous call to fit. Previously "
                    f"got {self.classes_}, `y` has {classes}"
                )
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(
                "`y` has classes not in `self.classes_`. "
                f"`self.classes_` has {self.classes_}. 'y' has {classes}."
            )

    def _train(self, X, y, sample_weight, *, incremental, classes=None, **kwargs):
        """Train a new network, or the current one, as MLPClassifier would.

        ``incremental`` (partial_fit) trains one epoch of the current network
        and takes no held-out data; a fit with `warm_start` also continues
        the current network, for up to `max_iter` (`epochs`) more epochs.
        Either way `n_iter_` counts the epochs of this call. Ctrl-C in the
        main thread stops the training at the end of a batch or compiled
        epoch and keeps the model, with a warning (:mod:`skmnist._interrupt`).
        """
        with _interrupt.deferred_interrupt() as interrupt:
            record, epochs = self._run(
                X, y, sample_weight, incremental, classes, interrupt, **kwargs
            )
        if record.interrupted:
            # scikit-learn's MLPClassifier says it in these words, a UserWarning.
            warnings.warn("Training interrupted by user.", stacklevel=3)
        elif not incremental and not record.stopped and record.n_iter == epochs:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({epochs:d}) reached and "
                "the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _run(self, X, y, sample_weight, incremental, classes, interrupt, **kwargs):
        """Check, encode and split the data, then train: ``(record, epochs)``."""
        hidden_sizes = self._check_params()
        if incremental:
            self._check_partial_fit(classes)
        _fast.prepare_backend()
        if self.initialized_ and (incremental or self.warm_start):
            X, y = self._check_X_y(X, y, reset=False)
            self._check_same_classes(y, incremental)
        else:
            X, y = self._start(X, y, classes, hidden_sizes)
        X, y, sample_weight = self._encoded(X, y, sample_weight)
        params = self._engine_params()
        fit_args = {
            "verbose": self._keras_verbose(),
            **_compat.routed(params, "fit"),
            **kwargs,
        }
        fit_args.pop("callbacks", None)  # gathered in self._fit_callbacks
        fit_args.pop("shuffle", None)  # the data shuffles itself, with its own seed
        batch_size = fit_args.pop("batch_size", None)
        early_stopping = self.early_stopping and not incremental
        split = fit_args.pop("validation_split", params["validation_split"])
        if early_stopping:
            split = self.validation_fraction
        if (
            (split or early_stopping)
            and not incremental
            and "validation_data" not in fit_args
        ):
            X, y, sample_weight, validation = _training.hold_out(
                X, y, sample_weight, float(split), self._random_state
            )
            fit_args["validation_data"] = validation
        batch_size = batch_size or self._batch_size(X.shape[0], warn=True)

        record = _training.Record.of(self)
        rules = _training.Rules(
            tol=float(self.tol),
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=early_stopping,
            schedule=_optimizer.Schedule.of(params),
            verbose=self._prints_iterations(),
        )
        epochs = 1 if incremental else self._max_epochs()
        try:
            self._training_loop = _training.run(
                self.model_,
                X,
                y,
                sample_weight,
                record=record,
                rules=rules,
                epochs=epochs,
                batch_size=batch_size,
                shuffle=self.shuffle,
                random_state=self._random_state,
                callbacks=self._fit_callbacks,
                fit_args=fit_args,
                interrupt=interrupt,
            )
        finally:
            vars(self).update(record.attributes())
            self._no_improvement_count = record.no_improvement_count
            # predict evaluates this copy of the weights (False: Keras must).
            self._dense_stack = _fast.dense_stack(self.model_) or False
        return record, epochs

    def _encoded(self, X, y, sample_weight):
        """Rows, class codes and weights (`class_weight` included) to train on."""
        if sample_weight is not None:
            X, y, sample_weight = _compat.validate_sample_weight(X, y, sample_weight)
        y = self.target_encoder_.transform(y)
        X = self.feature_encoder_.transform(X)
        class_weight = self._engine_params()["class_weight"]
        if class_weight is not None:
            weights = compute_sample_weight(class_weight, self.classes_[y])
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
        return X, y, sample_weight

    # -- model files (skmnist.persistence) ------------------------------------------

    # Attributes rebuilt from the others rather than stored.
    _DERIVED_STATE = ("model_", "target_encoder_", "feature_encoder_")

    def __skmnist_getstate__(self):
        """The fitted attributes and network weights a model file stores."""
        check_is_fitted(self)
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
        """Become the fitted classifier :meth:`__skmnist_getstate__` described."""
        hidden_sizes = self._check_params()
        if not (self.random_state is None or isinstance(self.random_state, int)):
            raise TypeError("random_state must be an int or None in a model file")
        _fast.prepare_backend()
        self._random_state = self.random_state
        vars(self).update(state)
        self.history_ = _training.Record.of(self).history
        self._no_improvement_count = 0
        self.target_encoder_ = self.target_encoder.fit(self.classes_)
        features = np.zeros((1, self.n_features_in_), dtype=np.float32)
        self.feature_encoder_ = self.feature_encoder.fit(features)
        self.model_ = self._build_network(hidden_sizes)
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

    def _probabilities(self, X, kwargs):
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        # The parameters are attributes (scikeras keeps routed ones so too):
        # get_params, with its copies, would cost more than the forward pass.
        routed = _compat.routed(vars(self), "predict")
        if routed or kwargs or self._predict_callbacks or not self._dense_stack:
            # Keras' own predict loop: for predict arguments and callbacks, and
            # for networks NumPy cannot evaluate.
            X = self._check_X(X)
            args = {"verbose": self._keras_verbose(), **routed, **kwargs}
            args["callbacks"] = self._predict_callbacks
            if args.get("batch_size") == -1:
                args["batch_size"] = len(X)
            return self.model_.predict(X, **args)
        # The forward pass checks the rows are finite as it goes; it leaves
        # any it doubts (NaN, infinities, sums too large) to sklearn's checks.
        proba = _fast.forward(
            self._dense_stack, self._check_X(X, finite=False), check_finite=True
        )
        if proba is None:
            proba = _fast.forward(self._dense_stack, self._check_X(X))
        return proba

    def predict_proba(self, X, **kwargs):
        """Probability of each class for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples of the width seen in :meth:`fit`.

        **kwargs : dict
            Extra arguments for ``keras.Model.predict``, which then runs
            instead of the NumPy forward pass.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of `classes_`; each row sums to 1.
        """
        return self._probabilities(X, kwargs)

    def predict(self, X, **kwargs):
        """The most probable class of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples of the width seen in :meth:`fit`.

        **kwargs : dict
            Extra arguments for ``keras.Model.predict``.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from `classes_`.
        """
        proba = self._probabilities(X, kwargs)
        return self.classes_[np.argmax(proba, axis=1)]

    def predict_log_proba(self, X):
        """Logarithm of the probability of each class for each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples of the width seen in :meth:`fit`.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, columns in the order of `classes_`.
        """
        proba = self._probabilities(X, {})
        return np.log(proba, out=proba)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,)
            Their true labels.

        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        score : float
            Share of the samples whose predicted label is right.
        """
        y, _ = _targets.check_target(y, type(self).__name__)
        if sample_weight is not None:
            X, y, sample_weight = _compat.validate_sample_weight(
                self._check_X(X), y, sample_weight
            )
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        tags.input_tags.sparse = bool(self._ACCEPT_SPARSE)
        return tags


class KerasMLPClassifier(_BaseMLP):
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
        Maximum number of passes over the training data in one :meth:`fit`
        (``MLPClassifier``'s ``max_iter``), a warm-started one included.
        Training stops earlier when the loss, or with `early_stopping` the
        validation accuracy, fails to improve by `tol` for more than
        `n_iter_no_change` consecutive epochs; when it does not, a
        :class:`~sklearn.exceptions.ConvergenceWarning` says so.

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
        best epoch. :meth:`partial_fit` refuses it, as in scikit-learn.

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
        Epochs trained by the last call: by the last :meth:`fit` (a warm
        start's included), 1 after :meth:`partial_fit`, as in scikit-learn.

    t_ : int
        Training samples seen, over all calls when training continues.

    loss_ : float
        Training loss of the last epoch (cross-entropy plus the L2 penalty).

    loss_curve_ : list of float
        Training loss of each epoch, over all calls when training continues.

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
        evaluate a float32 copy of its dense layers in NumPy, taken after each
        fit; after setting its weights by hand, call ``model_.predict``
        instead, or refit.

    history_ : dict of str to list of float
        Keras' per-epoch record: ``loss`` and ``accuracy``, and ``val_loss``
        and ``val_accuracy`` with a validation set.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same kind of network in NumPy.
    skmnist.make_mnist_pipeline : This classifier behind an image flattener.

    Notes
    -----
    Ctrl-C during :meth:`fit` or :meth:`partial_fit`, in the main thread of a
    plain Python process or a Jupyter cell, stops the training at the end of
    the current batch (of Keras' execution of several batches) or compiled
    epoch, never inside the backend's C++ code, and warns "Training
    interrupted by user." as scikit-learn does. The model stays fitted and
    predicts; its records hold the epochs completed, and early stopping
    restores the best one's weights. A second Ctrl-C raises
    ``KeyboardInterrupt`` at once. Where SIGINT has another handler than
    Python's default, or outside the main thread, nothing changes.

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
            setattr(self, name, value)  # checked in fit, with the others

    def _max_epochs(self):
        return self.epochs

    def _keras_verbose(self):
        return self.verbose

    def _prints_iterations(self):
        return False


def _is_stochastic(estimator):
    """``partial_fit`` exists for the stochastic solvers, as in scikit-learn."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. "
            f"{estimator.solver} is not stochastic."
        )
    return True


class MLPClassifier(_BaseMLP):
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
      has two columns for two classes; multilabel ``y`` is not supported;
    - the early-stopping validation split is stratified for multiclass
      problems too, where scikit-learn stratifies only binary ones;
    - ``solver="lbfgs"`` is refused: L-BFGS is a full-batch method Keras
      does not offer. `max_fun` is accepted, for the signature, and unused.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        The weight optimizer: Keras' Adam, or stochastic gradient descent
        with `momentum`, `nesterovs_momentum` and the `learning_rate`
        schedule. ``"lbfgs"`` raises a ValueError at :meth:`fit`: use
        scikit-learn's own class for it.

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
        scikit-learn's limit of loss function calls for ``"lbfgs"``, which
        this class does not offer; accepted and unused.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    loss_ : float
        The loss of the last epoch.

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
        :meth:`partial_fit`.

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
    Ctrl-C during :meth:`fit` or :meth:`partial_fit`, in the main thread of a
    plain Python process or a Jupyter cell, stops the training at the end of
    the current batch (of Keras' execution of several batches) or compiled
    epoch, never inside the backend's C++ code, and warns "Training
    interrupted by user." as scikit-learn does. The model stays fitted and
    predicts; its records hold the epochs completed, and early stopping
    restores the best one's weights. A second Ctrl-C raises
    ``KeyboardInterrupt`` at once. Where SIGINT has another handler than
    Python's default, or outside the main thread, nothing changes.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skmnist import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(max_iter=30, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)  # doctest: +SKIP
    array([0, 1, 2])
    """

    # scikit-learn 1.9's MLPClassifier constraints, word for word; the oracle
    # tests compare the errors they give.
    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
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

    # scikit-learn's parameter handling: the constructor's names and nothing
    # else (scikeras' would also accept routed fit__/optimizer__ names).
    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)
    set_params = BaseEstimator.set_params

    def _max_epochs(self):
        return self.max_iter

    def _keras_verbose(self):
        return 0

    def _prints_iterations(self):
        return bool(self.verbose)

    def _check_params(self):
        sizes = super()._check_params()
        if self.solver == "lbfgs":
            raise ValueError(
                "skmnist's MLPClassifier trains with the stochastic solvers "
                "'adam' and 'sgd' (as Keras optimizers); it has no solver='lbfgs'. "
                "Use solver='adam' or solver='sgd', or scikit-learn's own "
                "sklearn.neural_network.MLPClassifier, which offers L-BFGS."
            )
        return sizes

    def _check_hidden_sizes(self, sizes):
        if any(s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {list(sizes)}.")

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

    @available_if(_is_stochastic)
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
