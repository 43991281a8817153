"""The training plan and run: scikit-learn's MLPClassifier rules around a Keras model.

A :class:`Plan` is what one ``fit`` or ``partial_fit`` call will do (how
many epochs, which batches, what is held out, when to stop: the
:class:`Rules`), read from the estimator's parameters by :meth:`Plan.of`. A
:class:`Record` holds what MLPClassifier records across calls
(``n_iter_``, ``loss_curve_``, ``validation_scores_`` ...), read from the
estimator's attributes by :meth:`Record.of`. :func:`run` carries out a plan
on a compiled model: it holds out the validation rows, picks the loop that
trains (:func:`_loop`, the one place that decides), and runs it, while
:class:`Monitor`, a Keras callback, keeps the record and applies the rules
at the end of each epoch (after the epoch runs of :mod:`skmnist._epoch_runs`,
which apply the training-loss rule in their program too, it sees the
epochs of each call as they ended). Keras' ``EarlyStopping`` counts patience
differently, restores the best weights only when it stops early and has no
learning-rate schedule; MLPClassifier's rules are kept.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field, fields

import keras
import numpy as np
import scipy.sparse
from sklearn import config_context
from sklearn.model_selection import train_test_split

from . import (
    _compat,
    _compile_cache,
    _epoch_runs,
    _epochs,
    _keras_loop,
    _lbfgs,
    _optimizer,
)


@dataclass
class Record:
    """What the training of one network has recorded so far.

    Each field is the estimator's fitted attribute of the same name plus a
    trailing underscore, except the private ones (:attr:`PRIVATE`):
    ``no_improvement_count``; ``stopped``, whether the stopping rules ended
    the last call; ``interrupted``, whether Ctrl-C did; and ``stochastic``,
    False for a network trained by L-BFGS, which, as in MLPClassifier, has
    none of the per-epoch records (:attr:`STOCHASTIC`).

    As in MLPClassifier, ``n_iter`` counts the epochs of the last call (a
    ``fit``, or one epoch for ``partial_fit``), while ``t``, ``loss_curve``
    and ``validation_scores`` go on across the calls that continue one
    network: ``len(loss_curve)`` is the number of epochs it has trained.
    """

    PRIVATE = ("no_improvement_count", "stopped", "interrupted", "stochastic")

    #: The records only the stochastic solvers keep.
    STOCHASTIC = (
        "loss_curve",
        "best_loss",
        "validation_scores",
        "best_validation_score",
    )

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
    stochastic: bool = True
    history: dict = field(default_factory=lambda: defaultdict(list))

    def attributes(self):
        """The fitted attributes, ``{"n_iter_": ..., ...}``."""
        return {
            f.name + "_": getattr(self, f.name)
            for f in fields(self)
            if f.name not in self.PRIVATE
            and (self.stochastic or f.name not in self.STOCHASTIC)
        }

    @classmethod
    def of(cls, estimator):
        """The record an estimator's fitted attributes hold.

        A network trained by L-BFGS has no per-epoch records: they start
        empty if a stochastic solver continues it.
        """
        record = cls(
            **{
                f.name: getattr(estimator, f.name + "_")
                for f in fields(cls)
                if f.name not in cls.PRIVATE and hasattr(estimator, f.name + "_")
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

    @classmethod
    def of(cls, estimator, incremental):
        """The rules of a call, from the estimator's parameters.

        ``incremental`` for ``partial_fit``, which never stops early.
        """
        return cls(
            tol=float(estimator.tol),
            n_iter_no_change=estimator.n_iter_no_change,
            early_stopping=estimator.early_stopping and not incremental,
            schedule=_optimizer.Schedule.of(estimator),
            verbose=estimator._prints_iterations(),
        )

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


@dataclass
class Plan:
    """What one call to ``fit`` or ``partial_fit`` does, decided before it starts.

    Attributes
    ----------
    rules : Rules
        When to stop.
    epochs : int
        At most this many epochs (1 for ``partial_fit``).
    batch_size : callable
        The batch size for a number of training rows (those left once
        ``hold_out`` rows are held out).
    hold_out : float or None
        The share of the rows held out to validate on, or None.
    validation_data : tuple or None
        ``(X_val, y_val)`` given to ``fit``, instead of held-out rows.
    shuffle : bool
        Whether to draw a new order of the rows each epoch.
    random_state : int or None
        Seeds the held-out split and the order of the batches.
    callbacks : list of keras.callbacks.Callback
        The user's callbacks.
    verbose : int
        Keras' verbosity.
    fit_args : dict
        Further ``Model.fit`` arguments, which only Keras' loop takes.
    solver : str
        ``"lbfgs"`` for full-batch L-BFGS, else a stochastic solver's name.
    alpha : float
        The L2 penalty L-BFGS adds to its loss (the stochastic solvers have
        it in the layers' regularizers).
    max_fun : int
        Most evaluations of the loss by L-BFGS.
    augmentation : tuple or None
        ``(ImageAugmentation, (height, width))``: the training batches (never
        held-out rows) are augmented, with draws seeded by `random_state`.
    """

    rules: Rules
    epochs: int
    batch_size: object
    hold_out: float
    validation_data: tuple
    shuffle: bool
    random_state: int
    callbacks: list
    verbose: int
    fit_args: dict
    solver: str = "adam"
    alpha: float = 0.0
    max_fun: int = 15000
    augmentation: tuple = None

    @classmethod
    def of(cls, estimator, incremental, fit_kwargs):
        """The plan of a call to a skmnist estimator's ``fit`` or ``partial_fit``.

        ``incremental`` for ``partial_fit``; ``fit_kwargs`` are the extra
        ``Model.fit`` arguments the call got, over the ``fit__*`` parameters.
        """
        rules = Rules.of(estimator, incremental)
        fit_args = {
            "verbose": estimator._keras_verbose(),
            **_compat.routed(vars(estimator), "fit"),
            **fit_kwargs,
        }
        fit_args.pop("callbacks", None)  # scikeras gathers them in _fit_callbacks
        fit_args.pop("shuffle", None)  # the data shuffles itself, with its own seed
        batch_size = fit_args.pop("batch_size", None)
        split = fit_args.pop("validation_split", estimator.validation_split)
        if rules.early_stopping:
            split = estimator.validation_fraction
        hold_out = None
        if (split or rules.early_stopping) and not incremental:
            if "validation_data" not in fit_args:
                hold_out = float(split)
        if batch_size:  # fit__batch_size: as it is, whatever the number of rows
            batch_size = functools.partial(_given, batch_size)
        else:  # the estimator's: clipped to the number of rows
            batch_size = functools.partial(estimator._batch_size, warn=True)
        return cls(
            rules=rules,
            epochs=1 if incremental else estimator._max_epochs(),
            batch_size=batch_size,
            hold_out=hold_out,
            validation_data=fit_args.pop("validation_data", None),
            shuffle=estimator.shuffle,
            random_state=estimator._random_state,
            callbacks=estimator._fit_callbacks,
            verbose=fit_args.pop("verbose"),
            fit_args=fit_args,
            solver=estimator.solver,
            alpha=float(estimator.alpha),
            max_fun=estimator._max_fun(),
            augmentation=estimator._augmentation(),
        )


def _given(batch_size, n_rows):
    return batch_size


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

    def rule_state(self):
        """The training-loss rule and where it stands, for a program to apply.

        ``(tol, n_iter_no_change, best_loss, no_improvement_count)``.
        """
        record, rules = self.record, self.rules
        return (
            rules.tol,
            rules.n_iter_no_change,
            record.best_loss,
            record.no_improvement_count,
        )

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


def augmenter(augmentation, n_features, random_state, epoch):
    """The :class:`~skmnist._augmenting.Augmenter` of a call, or None.

    Seeded from ``random_state`` and the epochs trained before the call, as
    the shuffling is: the same fit draws the same augmented batches, and a
    continued fit draws new ones.
    """
    if augmentation is None:
        return None
    from ._augmenting import Augmenter

    settings, image_shape = augmentation
    seed = None
    if random_state is not None:
        entropy = [int(random_state) % 2**32, epoch, 1]
        seed = int(np.random.SeedSequence(entropy).generate_state(1)[0] >> 1)
    return Augmenter(settings.make_layer(image_shape, seed=seed), n_features)


def run(model, X, y, sample_weight, plan, record, interrupt=None):
    """Train ``model`` by ``plan``, updating ``record`` epoch by epoch.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    X, y, sample_weight : ndarray
        float32 rows (or a CSR matrix, densified one batch at a time), int32
        class codes, and float weights or None.
    plan : Plan
        What to do.
    record : Record
        The training so far.
    interrupt : skmnist._interrupt.Interrupt, default=None
        Stops the training at the end of a batch, compiled epoch or epoch
        run once Ctrl-C was pressed (``record.interrupted`` then says so).

    Returns
    -------
    loop : {"runs", "compiled", "steps", "keras", "lbfgs"}
        Which training loop ran (see :func:`_loop`).
    """
    if plan.solver == "lbfgs":  # full batch: no held-out rows, no batches
        return _run_lbfgs(model, X, y, sample_weight, plan, record, interrupt)
    validation = plan.validation_data
    if plan.hold_out is not None:
        X, y, sample_weight, validation = hold_out(
            X, y, sample_weight, plan.hold_out, plan.random_state
        )
    batch_size = plan.batch_size(X.shape[0])
    record.start(plan.rules.early_stopping)
    done = record.epochs_trained
    epochs = {
        "batch_size": batch_size,
        "epochs": done + plan.epochs,
        "initial_epoch": done,
        "shuffle": plan.shuffle,
        "seed": shuffle_seed(plan.random_state, done),
    }
    callbacks = {
        "callbacks": [
            Monitor(record, plan.rules, X.shape[0], interrupt),
            *plan.callbacks,
        ],
        "validation_data": validation,
        "verbose": plan.verbose,
        "augmenter": augmenter(plan.augmentation, X.shape[1], plan.random_state, done),
    }
    loop = _loop(model, X, plan, batch_size)
    if loop != "keras":
        try:
            history = _compiled(loop, model, X, y, sample_weight, epochs, callbacks)
        except Exception as error:
            # A program that could not be kept in (or read from) the compile
            # cache fails on its first call, before any weight changed.
            if not _compile_cache.recover(error):
                raise
            _epochs.COMPILED_EPOCHS = False
            loop = "keras"
    if loop == "keras":
        history = _keras_loop.fit(
            model, X, y, sample_weight, plan.fit_args, **epochs, **callbacks
        )
    for key, values in history.items():
        # Keras records an epoch that Ctrl-C cut short; the Monitor does not.
        record.history[key] += [float(v) for v in values[: record.n_iter]]
    return loop


def _compiled(loop, model, X, y, sample_weight, epochs, callbacks):
    """Train in a ``"runs"``, ``"compiled"`` or ``"steps"`` loop: the history."""
    if loop == "runs":  # the Monitor alone, called back after each call
        (judge,) = callbacks["callbacks"]
        return _epoch_runs.train(model, X, y, sample_weight, judge=judge, **epochs)
    return _epochs.train(
        model, X, y, sample_weight, by_step=loop == "steps", **epochs, **callbacks
    )


def _run_lbfgs(model, X, y, sample_weight, plan, record, interrupt):
    """Train by full-batch L-BFGS, as MLPClassifier's ``solver="lbfgs"``.

    Every row trains (`early_stopping` and the validation split are ignored,
    as scikit-learn ignores them); ``n_iter`` is the iterations of this call
    and ``loss`` the objective at its end; ``t`` and the per-epoch records
    are not kept. :func:`skmnist._lbfgs.fit_lbfgs` warns itself when the
    iterations or evaluations run out.
    """
    record.stopped = record.interrupted = False
    record.stochastic = False
    # Two classes: a softmax of two units, penalised as scikit-learn's one
    # logistic unit (see fit_lbfgs' output_alpha), for the same optimum.
    binary = model.outputs[0].shape[-1] == 2
    result = _lbfgs.fit_lbfgs(
        model,
        X,
        y,
        sample_weight,
        alpha=plan.alpha,
        max_iter=plan.epochs,
        max_fun=plan.max_fun,
        tol=plan.rules.tol,
        interrupt=interrupt,
        output_alpha=2 * plan.alpha if binary else None,
    )
    record.n_iter, record.loss = result.n_iter, result.loss
    record.interrupted = interrupt is not None and interrupt.honoured
    return "lbfgs"


def _loop(model, X, plan, batch_size):
    """Which loop trains a stochastic solver: the one place that decides.

    ``"runs"``: epoch runs, many epochs a compiled call with the stopping
    rule in the program (:func:`skmnist._epoch_runs.train`), for compiled
    fits that need nothing from Python between epochs (:func:`_runs_fit`);
    ``"compiled"``: skmnist's compiled epochs (:func:`skmnist._epochs.train`);
    ``"steps"``: the same program's step, a call per batch, for fits of
    fewer than `~skmnist._epochs.MIN_COMPILED_STEPS` steps; ``"keras"``:
    ``Model.fit`` (:func:`skmnist._keras_loop.fit`), for sparse rows,
    arguments only it takes, and networks the backend has no program for
    (or all, when `~skmnist._epochs.COMPILED_EPOCHS` is False).
    """
    if scipy.sparse.issparse(X) or plan.fit_args:
        return "keras"
    if not _epochs.COMPILED_EPOCHS or not _epochs.can_train(model):
        return "keras"
    n_rows, n_features = X.shape
    if plan.epochs * math.ceil(n_rows / batch_size) < _epochs.MIN_COMPILED_STEPS:
        return "steps"
    if _runs_fit(plan) and _epoch_runs.can_train(n_rows, 4 * n_features, batch_size):
        return "runs"
    return "compiled"


def _runs_fit(plan):
    """Whether a fit by ``plan`` needs nothing from Python between its epochs.

    No callbacks or printing, no held-out rows, no augmentation, and a
    learning rate that only stopping would change: then the training-loss
    rule alone decides between epochs, and epoch runs apply it.
    """
    rules = plan.rules
    return (
        not plan.callbacks
        and plan.verbose == 0
        and not rules.verbose
        and not rules.early_stopping
        and plan.hold_out is None
        and plan.validation_data is None
        and plan.augmentation is None
        and rules.schedule.kind == "constant"
    )
