"""scikit-learn's MLPClassifier training rules, as a Keras callback.

Keras' ``EarlyStopping`` counts patience differently from ``MLPClassifier``
and restores the best weights only when it stops early; ``MLPClassifier``
also stops on a training loss that no longer improves, and divides the
learning rate of its ``"adaptive"`` schedule instead of stopping. This
callback keeps ``MLPClassifier``'s rules and its records (``n_iter_``,
``loss_curve_``, ``validation_scores_`` ...) on the estimator.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import keras

# MLPClassifier's "adaptive" schedule gives up below this learning rate.
_MIN_ADAPTIVE_LR = 1e-6


class MLPMonitor(keras.callbacks.Callback):
    """Record each epoch on ``estimator``; stop, restore and anneal as sklearn does.

    Parameters
    ----------
    estimator : KerasMLPClassifier
        Receives the records; its parameters give the rules.
    n_samples : int
        Training samples per epoch (``t_`` grows by this much each epoch).
    early_stopping : bool
        Judge progress by the validation accuracy (``val_accuracy`` in the
        logs) and restore the best weights at the end, rather than by the
        training loss.
    """

    def __init__(self, estimator, n_samples, early_stopping):
        super().__init__()
        self.estimator = estimator
        self.n_samples = n_samples
        self.early_stopping = early_stopping
        self.best_weights = None

    def _learning_rate(self, value=None):
        variable = self.model.optimizer.learning_rate
        if value is None:
            return float(keras.ops.convert_to_numpy(variable))
        variable.assign(value)

    def on_epoch_begin(self, epoch, logs=None):
        est = self.estimator
        if est._schedule == "invscaling":
            self._learning_rate(est.learning_rate_init / (est.t_ + 1) ** est.power_t)

    def on_epoch_end(self, epoch, logs=None):
        est = self.estimator
        logs = logs or {}
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_ = float(logs["loss"])
        est.loss_curve_.append(est.loss_)
        if self.early_stopping:
            score = float(logs["val_accuracy"])
            est.validation_scores_.append(score)
            stalled = score < est.best_validation_score_ + est.tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                self.best_weights = self.model.get_weights()
        else:
            stalled = est.loss_ > est.best_loss_ - est.tol
            est.best_loss_ = min(est.best_loss_, est.loss_)
        est._no_improvement_count = est._no_improvement_count + 1 if stalled else 0
        if est._no_improvement_count > est.n_iter_no_change:
            rate = self._learning_rate()
            if est._schedule == "adaptive" and rate > _MIN_ADAPTIVE_LR:
                self._learning_rate(rate / 5)
                est._no_improvement_count = 0
            else:
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
