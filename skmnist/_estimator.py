"""The engine behind skmnist's classifiers: checks, training, predictions.

:class:`_BaseMLP`, a scikeras ``KerasClassifier``, is everything the two
public faces share: :class:`skmnist.KerasMLPClassifier`
(:mod:`skmnist.classifier`) and :class:`skmnist.MLPClassifier`
(:mod:`skmnist.neural_network`) each bring their signature, docstring and
parameter constraints (this module's :data:`PARAMETER_CONSTRAINTS`,
extended), and answer the engine's few hooks. The parts behind it each have
a module: the network (:mod:`skmnist._network`), the optimizer and its
schedule (:mod:`skmnist._optimizer`), class labels (:mod:`skmnist._targets`),
the training plan and run (:mod:`skmnist._training`, over the compiled
epochs of :mod:`skmnist._epochs` and Keras' own loop in
:mod:`skmnist._keras_loop`), the backend's settings
(:mod:`skmnist._backend`), the NumPy forward pass that predicts
(:mod:`skmnist._forward`), and what works around scikeras, scikit-learn and
Keras (:mod:`skmnist._compat`).

Importing this module imports Keras (and its backend).
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import textwrap
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse
from scikeras.wrappers import KerasClassifier
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.utils import ClassifierTags
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from . import (
    _backend,
    _compat,
    _forward,
    _interrupt,
    _keras_loop,
    _network,
    _optimizer,
    _targets,
    _training,
    _validation,
)
from ._compat import Interval, InvalidParameterError, StrOptions

_LOSS = "sparse_categorical_crossentropy"

# scikit-learn's MLPClassifier's words for a fit whose weights are not finite.
NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain "
    "large values and need to be preprocessed."
)

#: The constraints both faces share, in scikit-learn's words; each face
#: extends them with its own parameters, and replaces an entry only where
#: scikit-learn's own table for ``MLPClassifier`` requires it.
PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    # No share at all holds nothing out: refused here, where scikit-learn
    # lets the split fail (MLPClassifier keeps scikit-learn's entry).
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
}

#: The Notes section of both faces' docstrings (see :func:`shared_notes`).
INTERRUPT_NOTES = """\
Ctrl-C during :meth:`fit` or :meth:`partial_fit`, in the main thread of a
plain Python process or a Jupyter cell, stops the training at the end of
the current batch (of Keras' execution of several batches) or compiled
epoch, never inside the backend's C++ code, and warns "Training
interrupted by user." as scikit-learn does. The model stays fitted and
predicts; its records hold the epochs completed, and early stopping
restores the best one's weights. A second Ctrl-C raises
``KeyboardInterrupt`` at once. Where SIGINT has another handler than
Python's default, or outside the main thread, nothing changes.
"""

_NOTES_MARK = "    .. Ctrl-C notes (skmnist._estimator.INTERRUPT_NOTES)\n"


def _is_stochastic(estimator):
    """``partial_fit`` exists for the stochastic solvers, as in scikit-learn."""
    if estimator.solver not in ("sgd", "adam"):
        raise AttributeError(
            "partial_fit is only available for stochastic optimizers. "
            f"{estimator.solver} is not stochastic."
        )
    return True


def shared_notes(cls):
    """Put :data:`INTERRUPT_NOTES` in place of the mark in ``cls``'s Notes section."""
    if _NOTES_MARK not in cls.__doc__:
        raise AssertionError(f"{cls.__name__}'s docstring lacks the Ctrl-C notes mark")
    notes = textwrap.indent(INTERRUPT_NOTES, "    ")
    cls.__doc__ = cls.__doc__.replace(_NOTES_MARK, notes)
    return cls


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

    _parameter_constraints = PARAMETER_CONSTRAINTS

    def _max_epochs(self):
        """Most epochs of one :meth:`fit` call (`epochs` or `max_iter`)."""
        raise NotImplementedError

    def _keras_verbose(self):
        """Keras' verbosity level for its training and predict loops."""
        raise NotImplementedError

    def _prints_iterations(self):
        """Whether each epoch prints MLPClassifier's ``Iteration N`` line."""
        raise NotImplementedError

    def _max_fun(self):
        """Most evaluations of the loss by ``solver="lbfgs"``."""
        return 15000

    def _augmentation(self):
        """``(ImageAugmentation, (height, width))`` for the training rows, or None.

        Called in fit, once ``n_features_in_`` is set.
        """
        return None

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
        if self.solver == "lbfgs":
            self._check_lbfgs()
        return tuple(int(s) for s in sizes)

    def _check_lbfgs(self):
        """What full-batch L-BFGS cannot do with the Keras-only parameters."""
        if self.optimizer is not None:
            raise ValueError(
                f"solver='lbfgs' trains by SciPy's L-BFGS-B, not by a Keras "
                f"optimizer, but optimizer={self.optimizer!r} was given; set "
                "optimizer=None, or use solver='adam' or 'sgd' with it."
            )
        if self.dropout:
            raise ValueError(
                f"solver='lbfgs' trains without dropout, but dropout={self.dropout!r}; "
                "set dropout=0 or use a stochastic solver ('adam' or 'sgd')."
            )
        if getattr(self, "augmentation", None) is not None:
            raise ValueError(
                "solver='lbfgs' trains on the fixed rows in one batch, so it cannot "
                "augment them; set augmentation=None or use solver='adam' or 'sgd'."
            )

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
        if scipy.sparse.issparse(X):
            return X.tocsr().astype(np.float32)
        return np.asarray(X, dtype=np.float32, order="C")

    def _check_X_y(self, X, y, reset):
        """Checked ``(X, y, target type)``; ``reset`` when a new network starts."""
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
        return X, y, target_type

    @property
    def target_encoder(self):
        """The unfitted label encoder (scikeras hook); fitted as ``target_encoder_``."""
        return _targets.LabelEncoder(estimator_name=type(self).__name__)

    # -- network ----------------------------------------------------------------

    def _build_network(self, hidden_sizes, n_samples, seed):
        """A new compiled network for the ``n_samples`` rows that start it."""
        batch_size = self._batch_size(n_samples)
        model = _network.build(
            n_features=self.n_features_in_,
            n_outputs=self.n_classes_,
            hidden_layer_sizes=hidden_sizes,
            activation=self.activation,
            dropout=float(self.dropout),
            # MLPClassifier's penalty: alpha / 2 times the squared norm, per sample
            l2=0.5 * float(self.alpha) / batch_size,
            seed=seed,
        )
        model.compile(
            optimizer=_optimizer.make(self, _compat.routed(vars(self), "optimizer")),
            loss=_LOSS,
            metrics=["accuracy"],
            **_keras_loop.compile_options(n_samples, batch_size, self._max_epochs()),
            **_compat.routed(vars(self), "compile"),
        )
        return model

    def _start(self, X, y, classes, hidden_sizes):
        """Check the data, learn its classes and build a new network for it.

        What a model file must keep to build the same network again is kept
        too: the seed, and the number of rows it started on (its batch size,
        and with it the L2 penalty's scale, depends on them).
        """
        self._random_state = self._seed()
        X, y, self.target_type_ = self._check_X_y(X, y, reset=True)
        self._n_fit_samples = X.shape[0]
        encoder = self.target_encoder
        if classes is not None:
            encoder.set_params(classes=classes)
        self.target_encoder_ = encoder.fit(y)
        vars(self).update(self.target_encoder_.get_metadata())
        self.feature_encoder_ = self.feature_encoder.fit(X)
        self.model_ = self._build_network(
            hidden_sizes, self._n_fit_samples, self._random_state
        )
        # a new training record; L-BFGS keeps no per-epoch records
        for name in _training.Record.STOCHASTIC:
            vars(self).pop(name + "_", None)
        record = _training.Record(stochastic=self.solver != "lbfgs")
        vars(self).update(record.attributes())
        self._no_improvement_count = 0
        _compat.initialize_callbacks(self)
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
        _backend.prepare_backend()
        self._start(X, y, None, self._check_params())
        self._weights_changed()
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

    @available_if(_is_stochastic)
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
            X, y, sample_weight = self._training_data(
                X, y, sample_weight, incremental, classes
            )
            plan = _training.Plan.of(self, incremental, kwargs)
            record = self._run(plan, X, y, sample_weight, interrupt)
        if record.interrupted:
            # scikit-learn's MLPClassifier says it in these words, a UserWarning.
            warnings.warn("Training interrupted by user.", stacklevel=3)
        elif (
            plan.solver != "lbfgs"  # fit_lbfgs warns in scikit-learn's words
            and not incremental
            and not record.stopped
            and record.n_iter == plan.epochs
        ):
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({plan.epochs:d}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self._check_finite_weights()

    def _check_finite_weights(self):
        """Raise scikit-learn's error when training left a weight NaN or infinite.

        As MLPClassifier does, after its warnings, keeping the model as
        trained. The weights checked are the float32 copy predict evaluates
        (:func:`skmnist._forward.dense_stack`), else the network's own.
        """
        if self._dense_stack is not None:
            weights = [
                w for kernel, bias, _ in self._dense_stack for w in (kernel, bias)
            ]
        else:
            weights = self.model_.get_weights()
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(NON_FINITE_WEIGHTS)

    def _training_data(self, X, y, sample_weight, incremental, classes):
        """Checked and encoded ``(X, y, sample_weight)``, for the network they train.

        A new network, unless training continues the current one
        (`partial_fit`, or `warm_start` once fitted).
        """
        hidden_sizes = self._check_params()
        if incremental:
            self._check_partial_fit(classes)
        _backend.prepare_backend()
        if self.initialized_ and (incremental or self.warm_start):
            X, y, _ = self._check_X_y(X, y, reset=False)
            self._check_same_classes(y, incremental)
        else:
            X, y = self._start(X, y, classes, hidden_sizes)
        return self._encoded(X, y, sample_weight)

    def _run(self, plan, X, y, sample_weight, interrupt):
        """Train the network by ``plan``; keep what it recorded, even on failure."""
        record = _training.Record.of(self)
        try:
            # Which loop trained, for the tests and benchmarks; nothing reads it.
            self._training_loop = _training.run(
                self.model_, X, y, sample_weight, plan, record, interrupt
            )
        finally:
            vars(self).update(record.attributes())
            self._no_improvement_count = record.no_improvement_count
            self._weights_changed()
        return record

    def _encoded(self, X, y, sample_weight):
        """Rows, class codes and weights (`class_weight` included) to train on."""
        if sample_weight is not None:
            X, y, sample_weight = _compat.validate_sample_weight(X, y, sample_weight)
        y = self.target_encoder_.transform(y)
        X = self.feature_encoder_.transform(X)
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, self.classes_[y])
            sample_weight = (
                weights if sample_weight is None else sample_weight * weights
            )
            _check_class_weighted(sample_weight)
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
        _backend.prepare_backend()
        self._random_state = self.random_state
        vars(self).update(state)  # _n_fit_samples included
        self.history_ = _training.Record.of(self).history
        self._no_improvement_count = 0
        self.target_encoder_ = self.target_encoder.fit(self.classes_)
        features = np.zeros((1, self.n_features_in_), dtype=np.float32)
        self.feature_encoder_ = self.feature_encoder.fit(features)
        self.model_ = self._build_network(
            hidden_sizes, self._n_fit_samples, self._random_state
        )
        expected = [tuple(w.shape) for w in self.model_.get_weights()]
        if [w.shape for w in weights] != expected:
            raise ValueError(
                f"the weights have shapes {[w.shape for w in weights]}, but the "
                f"network its parameters describe needs {expected}"
            )
        self.model_.set_weights(weights)
        _compat.initialize_callbacks(self)
        self._weights_changed()

    # -- prediction --------------------------------------------------------------

    def _weights_changed(self):
        """Take the copy of the weights predict evaluates (None: Keras must)."""
        self._dense_stack = _forward.dense_stack(self.model_)

    def _forward_layers(self):
        """The dense layers :meth:`predict_proba` evaluates in NumPy.

        For :mod:`skmnist.onnx`, which writes the same computation: a list of
        ``(kernel, bias, activation)``, float32 copies of the weights taken
        when training last changed them (see :func:`skmnist._forward.dense_stack`),
        or None when the network is not such a chain (Keras predicts then).
        Call it on a fitted estimator only.
        """
        return self._dense_stack

    def _probabilities(self, X, kwargs):
        if not self.initialized_:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' "
                "with appropriate arguments before using this estimator."
            )
        # The parameters are attributes (scikeras keeps routed ones so too):
        # get_params, with its copies, would cost more than the forward pass.
        routed = _compat.routed(vars(self), "predict")
        if routed or kwargs or self._predict_callbacks or self._dense_stack is None:
            # Keras' own predict loop: for predict arguments and callbacks, and
            # for networks NumPy cannot evaluate.
            X = self._features(self._check_X(X))
            args = {"verbose": self._keras_verbose(), **routed, **kwargs}
            args["callbacks"] = self._predict_callbacks
            if args.get("batch_size") == -1:
                args["batch_size"] = len(X)
            return self.model_.predict(X, **args)
        # The forward pass checks the rows are finite as it goes; it leaves
        # any it doubts (NaN, infinities, sums too large) to sklearn's checks.
        proba = _forward.forward(
            self._dense_stack,
            self._features(self._check_X(X, finite=False)),
            check_finite=True,
        )
        if proba is None:
            proba = _forward.forward(
                self._dense_stack, self._features(self._check_X(X))
            )
        return proba

    def _features(self, X):
        """Checked rows as the network takes them: through `feature_encoder_`.

        scikeras' hook for subclasses, applied in fit (:meth:`_encoded`) and
        here alike; skipped when the class keeps scikeras' own encoder, which
        returns ``X`` as it is.
        """
        if type(self).feature_encoder is KerasClassifier.feature_encoder:
            return X
        X = self.feature_encoder_.transform(X)
        return X if scipy.sparse.issparse(X) else np.asarray(X, dtype=np.float32)

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


def _check_class_weighted(sample_weight):
    """Refuse weights that `class_weight` made NaN, infinite or all zero."""
    if not np.isfinite(sample_weight).all():
        raise ValueError(
            "class_weight gives some samples a weight that is not finite (NaN or "
            "infinity), alone or multiplied by sample_weight; give each class a "
            "finite weight."
        )
    if not sample_weight.any():
        raise ValueError(
            "class_weight gives every sample a weight of 0, alone or multiplied by "
            "sample_weight: there is nothing to train on. Give some class present "
            "in y a positive weight."
        )
