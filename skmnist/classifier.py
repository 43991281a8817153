"""KerasMLPClassifier: the classic Keras MNIST network as a scikit-learn classifier.

One of the two public faces of skmnist's engine (:mod:`skmnist._estimator`):
this module holds :class:`KerasMLPClassifier`'s signature, defaults,
docstring and parameter constraints, and the hooks where it differs from
:class:`MLPClassifier` (``epochs`` for ``max_iter``, Keras' verbosity).
:class:`MLPClassifier` lives in :mod:`skmnist.neural_network`, named as
scikit-learn's, and is importable from here too.

Importing this module imports Keras (and its backend); :mod:`skmnist` imports
it only when one of the classifiers is first used.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral, Real

import keras

from . import _compat, _estimator
from ._compat import Interval, StrOptions
from ._estimator import _BaseMLP
from .augmentation import ImageAugmentation
from .neural_network import MLPClassifier

__all__ = ["KerasMLPClassifier", "MLPClassifier"]


@_estimator.shared_notes
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

    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        The optimizer: Adam with `beta_1`, `beta_2` and `epsilon`,
        stochastic gradient descent with `momentum`, `nesterovs_momentum` and
        the `learning_rate` schedule, or full-batch L-BFGS as in
        ``MLPClassifier`` (SciPy's L-BFGS-B for up to `epochs` iterations
        and 15,000 evaluations; no dropout, `optimizer`, `partial_fit` or
        per-epoch records). See `optimizer` for any other Keras optimizer.

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

    augmentation : ImageAugmentation, default=None
        Random moves of the training images (rotation, shift, zoom, shear,
        elastic distortion), drawn anew for every training batch of every
        epoch and seeded by `random_state`. Only training batches are
        augmented: rows held out for `early_stopping` or `validation_split`,
        :meth:`predict`, :meth:`predict_proba`, model files and ONNX exports
        see the images as they are. A search reaches its settings as
        ``augmentation__rotation`` and so on. None: no augmentation.

    image_shape : tuple of (int, int), default=None
        ``(height, width)`` of the images whose flat rows `X` holds, for
        `augmentation` (a fitted :class:`~skmnist.ImageFlattener`'s
        ``image_shape_``). None: square images of ``sqrt(n_features)``
        pixels a side; rows of any other number of features need it.
        Ignored without `augmentation`.

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
    .. Ctrl-C notes (skmnist._estimator.INTERRUPT_NOTES)

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
        **_estimator.PARAMETER_CONSTRAINTS,
        "activation": [str],  # a Keras name too, checked at fit
        "solver": [StrOptions({"adam", "sgd", "lbfgs"})],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [str, type, keras.optimizers.Optimizer, None],
        "callbacks": [list, dict, keras.callbacks.Callback, None],
        "augmentation": [ImageAugmentation, None],
        "image_shape": [tuple, list, None],
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
        augmentation=None,
        image_shape=None,
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
        self.augmentation = augmentation
        self.image_shape = image_shape
        _compat.keep_routed(self, kwargs)  # checked in fit, with the others

    def _max_epochs(self):
        return self.epochs

    def _keras_verbose(self):
        return self.verbose

    def _prints_iterations(self):
        return False

    def _augmentation(self):
        if self.augmentation is None:
            return None
        n_features = self.n_features_in_
        shape = self.image_shape
        if shape is None:
            side = math.isqrt(n_features)
            if side * side != n_features:
                raise ValueError(
                    f"augmentation needs the shape of the images X's rows hold; "
                    f"X has {n_features} features, not a square number, so pass "
                    "image_shape=(height, width) (a fitted ImageFlattener's "
                    "image_shape_), or set augmentation=None."
                )
            shape = (side, side)
        elif math.prod(self.augmentation._check(shape)) != n_features:
            raise ValueError(
                f"image_shape={shape!r} does not describe X's rows of {n_features} "
                "features: pass the (height, width) of the images, whose product is "
                "the number of features, or set augmentation=None."
            )
        return self.augmentation, self.augmentation._check(shape)
