"""The training run: scikit-learn's MLPClassifier rules around a Keras model.

:func:`run` trains a compiled model for some epochs, on skmnist's compiled
epochs (:mod:`skmnist._fast`) when they pay, else through ``Model.fit``. A
:class:`Record` holds what MLPClassifier records across calls (``n_iter_``,
``loss_curve_``, ``validation_scores_`` ...); the estimator hands it in and
reads it back, and :class:`Monitor`, a Keras callback, keeps it and applies
MLPClassifier's rules at the end of each epoch. Keras' ``EarlyStopping``
counts patience differently, restores the best weights only when it stops
early and has no learning-rate schedule; MLPClassifier's rules are kept.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from collections import defaultdict
from dataclasses import dataclass, field, fields

import keras
import numpy as np
from sklearn import config_context
from sklearn.model_selection import train_test_split

from . import _fast


@dataclass
class Record:
    """What the training of one network has recorded so far.

    Each field is the estimator's fitted attribute of the same name plus a
    trailing underscore, except the private ones (:attr:`PRIVATE`):
    ``no_improvement_count``; ``stopped``, whether the stopping rules ended
    the last call; and ``interrupted``, whether Ctrl-C did.

    As in MLPClassifier, ``n_iter`` counts the epochs of the last call (a
    ``fit``, or one epoch for ``partial_fit``), while ``t``, ``loss_curve``
    and ``validation_scores`` go on across the calls that continue one
    network: ``len(loss_curve)`` is the number of epochs it has trained.
    """

    PRIVATE = ("no_improvement_count", "stopped", "interrupted")

    n_iter: int = 0
    t: int = 0
    loss: float = None
    loss_curve: list = field(default_factory=list)
    best_loss: float = np.inf
    validation_scores: list = field(default_factory=list)
    best_validation_score: float = -np.inf
    no_improvement_count: int = 0
    stopped: bool = False
    interrupted: bool = False
    history: dict = field(default_factory=lambda: defaultdict(list))

    def attributes(self):
        """The fitted attributes, ``{"n_iter_": ..., ...}``."""
        return {
            f.name + "_": getattr(self, f.name)
            for f in fields(self)
            if f.name not in self.PRIVATE
        }

    @classmethod
    def of(cls, estimator):
        """The record an estimator's fitted attributes hold."""
        record = cls(
            **{
                f.name: getattr(estimator, f.name + "_")
                for f in fields(cls)
                if f.name not in cls.PRIVATE
            }
        )
        record.no_improvement_count = getattr(estimator, "_no_improvement_count", 0)
        record.history = defaultdict(list, record.history)
        return record

    @property
    def epochs_trained(self):
        """Epochs the network has trained over every call."""
        return len(self.loss_curve)

    def start(self, early_stopping):
        """Prepare the records for a call that judges by validation or by loss."""
        self.n_iter = 0
        self.stopped = self.interrupted = False
        if early_stopping:
            self.best_loss = None
            if self.validation_scores is None:
                self.validation_scores, self.best_validation_score = [], -np.inf
        else:
            self.validation_scores = self.best_validation_score = None
            if self.best_loss is None:
                self.best_loss = np.inf


@dataclass
class Rules:
    """When training stops: MLPClassifier's `tol` and `n_iter_no_change`.

    With ``early_stopping`` progress is the validation accuracy, and the
    weights of its best epoch are restored at the end; else it is the
    training loss. ``schedule`` (an :class:`skmnist._optimizer.Schedule`)
    may lower the learning rate instead of stopping.
    """

    tol: float
    n_iter_no_change: int
    early_stopping: bool
    schedule: object
    verbose: bool = False

    def stall_message(self):
        """MLPClassifier's words for progress that stalled."""
        if self.early_stopping:
            return (
                f"Validation score did not improve more than tol={self.tol:f} for "
                f"{int(self.n_iter_no_change):d} consecutive epochs."
            )
        return (
            f"Training loss did not improve more than tol={self.tol:f} for "
            f"{int(self.n_iter_no_change):d} consecutive epochs."
        )


class Monitor(keras.callbacks.Callback):
    """Keep a :class:`Record` of each epoch and apply the :class:`Rules`.

    It also stops the training at the end of a batch (or compiled epoch)
    once Ctrl-C was pressed. As in MLPClassifier, an epoch cut short is not
    recorded, though its batches have updated the weights.

    Parameters
    ----------
    record : Record
        Updated at the end of each epoch.
    rules : Rules
        When to stop, the learning-rate schedule, and whether to print
        MLPClassifier's lines each epoch.
    n_samples : int
        Training samples per epoch (``t`` grows by this much each epoch).
    interrupt : skmnist._interrupt.Interrupt or None
        Whether Ctrl-C asks to stop.
    """

    # After a batch it only looks for Ctrl-C: the model need not be current.
    reads_only_logs = True

    def __init__(self, record, rules, n_samples, interrupt=None):
        super().__init__()
        self.record = record
        self.rules = rules
        self.n_samples = n_samples
        self.interrupt = interrupt
        self.best_weights = None
        self.cut_short = False

    def _learning_rate(self, value=None):
        variable = self.model.optimizer.learning_rate
        if value is None:
            return float(keras.ops.convert_to_numpy(variable))
        variable.assign(value)

    def on_epoch_begin(self, epoch, logs=None):
        rate = self.rules.schedule.rate_at(self.record.t)
        if rate is not None:
            self._learning_rate(rate)

    def on_train_batch_end(self, batch, logs=None):
        interrupt = self.interrupt
        if interrupt is not None and interrupt.requested and not interrupt.honoured:
            interrupt.honoured = self.record.interrupted = True
            self.model.stop_training = True
            steps = self.params.get("steps")
            self.cut_short = steps is not None and batch + 1 < steps

    def on_epoch_end(self, epoch, logs=None):
        if self.cut_short:
            return
        record, rules = self.record, self.rules
        logs = logs or {}
        record.n_iter += 1
        record.t += self.n_samples
        record.loss = float(logs["loss"])
        record.loss_curve.append(record.loss)
        if rules.verbose:
            print(f"Iteration {record.n_iter:d}, loss = {record.loss:.8f}")
        if rules.early_stopping:
            score = float(logs["val_accuracy"])
            record.validation_scores.append(score)
            if rules.verbose:
                print(f"Validation score: {score:f}")
            stalled = score < record.best_validation_score + rules.tol
            if score > record.best_validation_score:
                record.best_validation_score = score
                self.best_weights = self.model.get_weights()
        else:
            stalled = record.loss > record.best_loss - rules.tol
            record.best_loss = min(record.best_loss, record.loss)
        record.no_improvement_count = record.no_improvement_count + 1 if stalled else 0
        if record.no_improvement_count > rules.n_iter_no_change:
            rate = rules.schedule.on_stall(self._learning_rate())
            message = rules.stall_message()
            if rate is None:
                self.model.stop_training = record.stopped = True
                if rules.schedule.kind == "adaptive":
                    message += " Learning rate too small."
                message += " Stopping."
            else:
                self._learning_rate(rate)
                record.no_improvement_count = 0
                message += f" Setting learning rate to {rate:f}"
            if rules.verbose:
                print(message)

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def hold_out(X, y, sample_weight, fraction, random_state):
    """Split off a validation set: ``X, y, sample_weight, (X_val, y_val)``.

    Stratified by class. MLPClassifier stratifies only binary problems; a
    multiclass split that cannot be stratified (a class with one sample, or
    fewer held-out samples than classes) is drawn unstratified, as
    MLPClassifier draws it, so that data it trains on trains here too, and
    too small a validation set fails with its error.
    """
    arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
    split = {"test_size": fraction, "random_state": random_state}
    # scikit-learn's estimators call train_test_split without validating its
    # parameters again (a fraction of 0 then fails with the split's words).
    with config_context(skip_parameter_validation=True):
        try:
            parts = train_test_split(*arrays, stratify=y, **split)
        except ValueError:
            if len(np.unique(y)) <= 2:
                raise  # MLPClassifier stratifies binary splits: its error
            parts = train_test_split(*arrays, **split)
    if math.ceil(fraction * X.shape[0]) < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' "
            "or the size of your dataset."
        )
    train, held_out = parts[0::2], parts[1::2]
    if sample_weight is None:
        return train[0], train[1], None, tuple(held_out)
    return train[0], train[1], train[2], tuple(held_out[:2])


def shuffle_seed(random_state, epoch):
    """The seed of the shuffling from ``epoch`` on: distinct for each continued fit."""
    if random_state is None:
        return None
    entropy = [int(random_state) % 2**32, epoch]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)


def run(
    model,
    X,
    y,
    sample_weight,
    *,
    record,
    rules,
    epochs,
    batch_size,
    shuffle,
    random_state,
    callbacks,
    fit_args,
    interrupt=None,
):
    """Train ``model`` for up to ``epochs`` more epochs, updating ``record``.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    X, y, sample_weight : ndarray
        float32 rows (or a CSR matrix, densified one batch at a time), int32
        class codes, and float weights or None.
    record : Record
        The training so far; updated epoch by epoch.
    rules : Rules
        When to stop.
    epochs, batch_size : int
        At most this many epochs, of batches of this size.
    shuffle : bool
        Whether to draw a new order of the samples each epoch.
    random_state : int or None
        Seeds the order of the batches.
    callbacks : list of keras.callbacks.Callback
        The user's callbacks.
    fit_args : dict
        Further ``Model.fit`` arguments (``verbose``, ``validation_data`` ...).
    interrupt : skmnist._interrupt.Interrupt, default=None
        Stops the training at the end of a batch or compiled epoch once
        Ctrl-C was pressed (``record.interrupted`` then says so).

    Returns
    -------
    loop : {"compiled", "steps", "keras"}
        Which training loop ran: skmnist's compiled epochs, its step by step
        loop for short fits, or ``Model.fit``.
    """
    record.start(rules.early_stopping)
    callbacks = [Monitor(record, rules, X.shape[0], interrupt), *callbacks]
    done = record.epochs_trained
    seed = shuffle_seed(random_state, done)
    epochs_range = {"epochs": done + epochs, "initial_epoch": done}
    trained = None
    sparse = _fast.is_sparse(X)
    if sparse and fit_args.get("validation_data") is not None:
        # Held-out rows too are densified one batch at a time.
        fit_args = dict(fit_args)
        fit_args["validation_data"] = _fast.training_data(
            *fit_args["validation_data"],
            None,
            batch_size=batch_size,
            shuffle=False,
            seed=None,
        )
    if not sparse and set(fit_args) <= {"verbose", "validation_data"}:
        trained = _fast.train(
            model,
            X,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            callbacks=callbacks,
            validation_data=fit_args.get("validation_data"),
            verbose=fit_args.get("verbose", 0),
            **epochs_range,
        )
    if trained is not None:
        loop, history = trained
    else:  # sparse rows, arguments only fit takes, or no program for the model
        loop = "keras"
        data = _fast.training_data(
            X, y, sample_weight, batch_size=batch_size, shuffle=shuffle, seed=seed
        )
        # Keras on TensorFlow would create the optimizer's and the metrics'
        # variables inside its first trace, then trace its train function again.
        model._symbolic_build(data_batch=data.first_rows())
        try:
            history = model.fit(
                data, callbacks=callbacks, shuffle=False, **epochs_range, **fit_args
            ).history
        finally:
            data.release()
            if sparse and fit_args.get("validation_data") is not None:
                fit_args["validation_data"].release()
    for key, values in history.items():
        # Keras records an epoch that Ctrl-C cut short; the Monitor does not.
        record.history[key] += [float(v) for v in values[: record.n_iter]]
    return loop
