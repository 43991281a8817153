"""The optimizer an estimator's parameters describe, and its learning-rate schedule."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import keras

from ._compat import InvalidParameterError

# MLPClassifier's "adaptive" schedule gives up below this learning rate.
_MIN_ADAPTIVE_LR = 1e-6


def make(estimator, routed):
    """A new Keras optimizer for the parameters of ``estimator``.

    ``optimizer=None`` gives the `solver`'s optimizer (Adam or SGD with
    MLPClassifier's parameters); a name, class or instance is made with
    ``learning_rate=learning_rate_init``. ``routed`` (the ``optimizer__*``
    parameters) overrides either. Real-valued parameters are cast to float,
    as Keras refuses ints where scikit-learn accepts any real number.
    """
    optimizer = estimator.optimizer
    learning_rate = float(estimator.learning_rate_init)
    if optimizer is None:
        if estimator.solver == "sgd":
            defaults = {
                "momentum": float(estimator.momentum),
                "nesterov": bool(estimator.nesterovs_momentum),
            }
            optimizer = keras.optimizers.SGD
        else:
            defaults = {
                "beta_1": float(estimator.beta_1),
                "beta_2": float(estimator.beta_2),
                "epsilon": float(estimator.epsilon),
            }
            optimizer = keras.optimizers.Adam
        return optimizer(learning_rate=learning_rate, **{**defaults, **routed})
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer.__class__.from_config({**optimizer.get_config(), **routed})
    config = {"learning_rate": learning_rate, **routed}
    if isinstance(optimizer, type):
        return optimizer(**config)
    try:
        return keras.optimizers.get({"class_name": optimizer, "config": config})
    except (ValueError, TypeError):
        raise InvalidParameterError(
            f"The 'optimizer' parameter of {type(estimator).__name__} must be the name "
            "of a Keras optimizer (such as 'adam' or 'sgd'), an optimizer class or "
            f"an instance. Got {optimizer!r} instead."
        ) from None


class Schedule:
    """MLPClassifier's learning-rate schedules, for the ``"sgd"`` solver.

    Parameters
    ----------
    kind : {"constant", "invscaling", "adaptive"}
        ``"invscaling"`` sets ``learning_rate_init / (t + 1) ** power_t``
        before each epoch, ``t`` the samples seen so far; ``"adaptive"``
        divides the rate by 5 when progress stalls, until it is below 1e-6.
    learning_rate_init, power_t : float
        As in MLPClassifier.
    """

    def __init__(self, kind, learning_rate_init, power_t):
        self.kind = kind
        self.learning_rate_init = float(learning_rate_init)
        self.power_t = float(power_t)

    @classmethod
    def of(cls, estimator):
        """The schedule in force for the parameters of ``estimator``."""
        kind = "constant"
        if estimator.solver == "sgd" and estimator.optimizer is None:
            kind = estimator.learning_rate
        return cls(kind, estimator.learning_rate_init, estimator.power_t)

    def rate_at(self, t):
        """The learning rate for an epoch after ``t`` samples, or None to keep it."""
        if self.kind == "invscaling":
            return self.learning_rate_init / (t + 1) ** self.power_t
        return None

    def on_stall(self, rate):
        """The learning rate after progress stalled, or None to stop training."""
        if self.kind == "adaptive" and rate > _MIN_ADAPTIVE_LR:
            return rate / 5
        return None
