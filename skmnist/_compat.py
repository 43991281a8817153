"""What skmnist changes in, or borrows from, scikeras', scikit-learn's and Keras' internals.

Each piece names the versions it was checked on and when it can go. Besides
the pieces below, the engine (:mod:`skmnist._estimator`) relies on
scikeras' ``_get_param_names``, which makes routed parameters such as
``fit__validation_batch_size`` part of ``get_params`` (of
``KerasMLPClassifier``; ``MLPClassifier`` has scikit-learn's, see
:class:`SklearnParameters`), and on scikit-learn's
``BaseEstimator._validate_params``, as every scikit-learn estimator does.
scikeras 0.13 is the only release line supported
(``scikeras>=0.13,<0.14``); Keras internals were checked on Keras 3.15.1
(TensorFlow 2.21, JAX 0.10), 2026-12.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import difflib
import functools

from sklearn.base import BaseEstimator
from sklearn.utils import Tags, TargetTags

# scikit-learn's parameter validation is private API, but it is what gives
# every scikit-learn estimator its parameter errors; skmnist uses it for the
# same messages. It has not changed from 1.6 to 1.9, the versions CI tests.
# TODO: revisit at each new scikit-learn release line (the upper bound).
from sklearn.utils._param_validation import (  # noqa: F401
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)

# Private too, unchanged from 1.6 to 1.9 (checked 2026-12): it words the
# "lbfgs failed to converge" ConvergenceWarning as MLPClassifier does and
# returns its n_iter_; skmnist._lbfgs calls it for the same warning.
# TODO: revisit with the upper bound.
from sklearn.utils.optimize import _check_optimize_result  # noqa: F401

# Likewise private, and unchanged from 1.6 to 1.9: the sample_weight check of
# every scikit-learn estimator. TODO: revisit with the upper bound.
from sklearn.utils.validation import _check_sample_weight

# The prefixes scikeras routes to Keras: fit__batch_size goes to Model.fit,
# optimizer__amsgrad to the optimizer, and so on.
ROUTING_PREFIXES = ("fit", "predict", "compile", "optimizer", "callbacks")


def routed(params, destination):
    """The parameters ``destination__name`` of ``params``, as ``{name: value}``."""
    prefix = destination + "__"
    return {
        key[len(prefix) :]: value
        for key, value in params.items()
        if key.startswith(prefix) and "__" not in key[len(prefix) :]
    }


def check_param_name(cls, name):
    """Raise TypeError unless ``name`` is a parameter of ``cls`` or a routed one.

    scikeras 0.13 keeps any keyword its constructor is given, so a misspelt
    ``epoch=5`` was kept and ignored; only its routed names (``fit__*`` ...)
    are meant to be open-ended.
    """
    names = BaseEstimator._get_param_names.__func__(cls)
    prefix, routed = name.split("__", 1)[0], "__" in name
    if name in names or (routed and prefix in ROUTING_PREFIXES):
        return
    close = difflib.get_close_matches(prefix, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close and not routed else ""
    raise TypeError(
        f"{cls.__name__} got an unknown parameter {name!r}.{hint} Its parameters "
        f"are {sorted(names)}; parameters passed on to Keras start with one of "
        f"{[p + '__' for p in ROUTING_PREFIXES]}."
    )


def keep_routed(estimator, kwargs):
    """Store the routed parameters a constructor got, as scikeras 0.13 does.

    scikeras reads ``fit__*``, ``optimizer__*`` ... parameters from the
    estimator's attributes, and its ``get_params`` lists every public
    attribute: a routed parameter given to the constructor survives
    :func:`sklearn.base.clone` so. Names are checked at fit
    (:func:`check_param_name`). TODO: review with each scikeras release
    line (checked on 0.13.0, 2026-12).
    """
    for name, value in kwargs.items():
        setattr(estimator, name, value)


def initialize_callbacks(estimator):
    """Let scikeras build the callbacks of ``estimator``'s parameters.

    scikeras 0.13's private ``_initialize_callbacks`` turns the
    ``callbacks`` and ``callbacks__*`` parameters into instances and keeps
    them as ``_fit_callbacks`` and ``_predict_callbacks``, which the engine
    reads. TODO: review with each scikeras release line (checked on 0.13.0,
    2026-12); it goes with the engine's scikeras base class.
    """
    estimator._initialize_callbacks()


def symbolic_build(model, data_batch):
    """Build ``model``'s optimizer and metric variables from one batch, untraced.

    Keras' private ``Model._symbolic_build``, which ``fit`` calls itself:
    on TensorFlow, ``fit`` would otherwise create those variables inside
    its first trace of the train function, then trace it again (a second
    of a small fit), and the compiled epochs need the variables of a
    model's private copy to exist before they trace anything. Checked on
    Keras 3.15.1 (2026-12; the trace-count tests of test_epochs fail
    if it changes). TODO: remove when Keras builds them before its first
    trace, or offers a public way to build them from data.
    """
    model._symbolic_build(data_batch=data_batch)
    # Keras 3.8's JAX ``train_step`` reads the variables' shardings,
    # which only its own ``make_train_function`` records; 3.15's reads
    # none. TODO: remove when the oldest Keras supported reads none.
    record_shardings = getattr(model, "_record_training_state_sharding_spec", None)
    if record_shardings is not None:
        record_shardings()


def threefry_dropout(in_program):
    """Have Keras' TensorFlow dropout draw Threefry masks inside compiled epochs.

    Keras draws dropout masks with TensorFlow's default generator, which XLA
    runs about ten times slower on the CPU than the Threefry generator (JAX's
    own): with dropout, Keras' fit used to beat the compiled epoch. Keras'
    private ``keras.src.backend.tensorflow.random.dropout`` is wrapped once,
    in place; the wrapper draws Threefry masks only while
    ``in_program.active`` is true in the calling thread (a
    :class:`threading.local` the compiled epochs set), and is Keras'
    function everywhere else. Returns whether the wrapper is in place: it is
    not when Keras' module lacks the private helpers it relies on
    (``_cast_seed``, ``draw_seed``, ``_get_concrete_noise_shape``), and the
    compiled epochs then leave networks with dropout to Keras' loop.

    Checked on Keras 3.15.1 with TensorFlow 2.21 (2026-12). TODO:
    remove when Keras' TensorFlow dropout draws its masks with a generator
    XLA runs fast on the CPU, or takes the algorithm as an argument.
    """
    from keras.src.backend.tensorflow import random

    if getattr(random.dropout, "_threefry", False):
        return True
    helpers = ("_cast_seed", "draw_seed", "_get_concrete_noise_shape")
    if not all(hasattr(random, name) for name in helpers):
        return False
    keras_dropout = random.dropout

    @functools.wraps(keras_dropout)
    def dropout(inputs, rate, noise_shape=None, seed=None):
        if not getattr(in_program, "active", False) or rate in (0.0, 1.0):
            return keras_dropout(inputs, rate, noise_shape=noise_shape, seed=seed)
        return random.tf.nn.experimental.stateless_dropout(
            inputs,
            rate=rate,
            noise_shape=random._get_concrete_noise_shape(inputs, noise_shape),
            seed=random._cast_seed(random.draw_seed(seed)),
            rng_alg="threefry",
        )

    dropout._threefry = True
    random.dropout = dropout
    return True


def image_layer_transform(layer, images):
    """One random draw of Keras' image ``layer`` per image, as its affine transform.

    ``layer`` is a ``RandomRotation``, ``RandomZoom``, ``RandomShear`` or
    ``RandomTranslation``; ``images`` a batch ``(n, height, width, c)``.
    Returns the ``(n, 8)`` transform the layer would hand to
    ``keras.ops.image.affine_transform`` for these images (each output
    pixel's ``(x, y)`` mapped to where it is read from), drawn from the
    layer's own seed generator: :mod:`skmnist._augmenting` composes the
    moves into one read. ``get_random_transformation`` is public; the keys
    of what it returns and the layers' ``_get_zoom_matrix``,
    ``_get_shear_matrix`` and ``_get_translation_matrix`` are not. Checked
    on Keras 3.8.0 and 3.15.1, which agree (2026-12; test_augmentation
    compares each move with its layer's own output). TODO: revisit with
    each Keras release line.
    """
    import keras

    drawn = layer.get_random_transformation(images, training=True)
    if isinstance(layer, keras.layers.RandomRotation):
        return drawn["rotation_matrix"]
    if isinstance(layer, keras.layers.RandomZoom):
        zooms = keras.ops.concatenate([drawn["width_zoom"], drawn["height_zoom"]], 1)
        height, width = images.shape[1], images.shape[2]
        return layer._get_zoom_matrix(keras.ops.cast(zooms, "float32"), height, width)
    if isinstance(layer, keras.layers.RandomShear):
        return layer._get_shear_matrix(drawn["shear_factor"])
    if isinstance(layer, keras.layers.RandomTranslation):
        return layer._get_translation_matrix(drawn["translations"])
    raise TypeError(f"No affine transform known for {type(layer).__name__}.")


def validate_sample_weight(X, y, sample_weight):
    """Check ``sample_weight`` and drop the samples of weight 0, as scikeras does.

    scikeras 0.13's ``_validate_sample_weight`` does the same, but converts
    with Keras' float type; this keeps scikit-learn's checks and messages.
    """
    # Checked as given (scikit-learn's words name its dtype), then cast.
    sample_weight = _check_sample_weight(sample_weight, X).astype(X.dtype, copy=False)
    if not sample_weight.any():
        raise ValueError(
            "sample_weight is 0 for every sample: there is nothing to train on or "
            "score. Give some samples a positive weight."
        )
    keep = sample_weight != 0
    if keep.all():
        return X, y, sample_weight
    return X[keep], y[keep], sample_weight[keep]


class ScikerasFixes:
    """Overrides of scikeras 0.13's ``BaseWrapper`` methods.

    TODO: review at each scikeras release line (the upper bound).
    """

    # scikeras prints every parameter on its own line, defaults included;
    # scikit-learn's repr prints only the changed ones, and the HTML display
    # of pipelines relies on it.
    __repr__ = BaseEstimator.__repr__


class SklearnParameters:
    """scikit-learn's parameter handling, for a face of scikeras' ``KerasClassifier``.

    ``MLPClassifier`` stands in for scikit-learn's, whose parameters are its
    constructor's names and nothing else; scikeras 0.13 lists every public
    attribute as a parameter and accepts routed names (``fit__*`` ...) in
    ``set_params``. Listed before the engine among the bases, this class
    gives back :class:`sklearn.base.BaseEstimator`'s two methods.

    The engine reads the Keras-only parameters of ``KerasMLPClassifier``
    too; a face without them has them here, as class attributes at the
    values that leave them out (no dropout, class weights, validation split,
    Keras optimizer or callbacks). Class attributes are not parameters: not
    in ``get_params``, refused by ``set_params``.

    TODO: review with each scikeras release line (checked on scikeras
    0.13.0 and scikit-learn 1.6-1.9, 2026-12); it goes when the engine no
    longer subclasses scikeras' ``KerasClassifier``.
    """

    _get_param_names = classmethod(BaseEstimator._get_param_names.__func__)
    set_params = BaseEstimator.set_params

    dropout = 0.0
    class_weight = None
    validation_split = 0.0
    optimizer = None
    callbacks = None


class TagsRoot:
    """The end of the ``__sklearn_tags__`` chain behind scikeras' classes.

    scikeras' ``KerasClassifier`` lists ``ClassifierMixin`` after
    ``BaseEstimator``, so ``ClassifierMixin.__sklearn_tags__`` calls
    ``super()`` with nothing behind it. scikit-learn 1.6 calls it that way
    when it merges the ``_more_tags`` that scikeras defines, and fails. Placed
    last among the bases, this class answers that call with default tags.

    TODO: remove when the minimum scikit-learn version is 1.7, which no
    longer reads ``_more_tags``.
    """

    def __sklearn_tags__(self):
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


class LegacyTags:
    """Tags for scikit-learn 1.6, which merges each class's ``_more_tags``.

    scikeras' ``_more_tags`` declares multi-output and multilabel support this
    classifier does not have, and checks to skip; listed before
    ``KerasClassifier`` among the bases, this class's ``_more_tags`` is merged
    after it and corrects that. scikit-learn 1.7 and newer read only
    ``__sklearn_tags__``.

    TODO: remove when the minimum scikit-learn version is 1.7.
    """

    def _more_tags(self):
        return {
            "multioutput": False,
            "multilabel": False,
            "poor_score": False,
            "_xfail_checks": {},
        }
