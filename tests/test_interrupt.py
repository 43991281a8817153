"""Ctrl-C during fit: training stops at a safe point and the model is kept.

Real signals throughout: a Keras callback sends SIGINT to this process at a
chosen point of the training (deterministic), a test sends it to a plain
Python process once that prints its first epochs, and one interrupts a real
Jupyter kernel through jupyter_client. The console script's own handling
(exit 130) is tested in test_cli.
"""

import math
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import keras
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmnist import KerasMLPClassifier, _interrupt

from ._console import sigint_as_in_a_terminal

INTERRUPTED = "Training interrupted by user."


def ctrl_c(handled=None):
    """Press Ctrl-C: SIGINT to this process, its Python handler run before returning.

    CPython runs a signal's Python handler in the main thread at its next
    check, and runs it once for signals that arrive before that check; wait
    for it, so that two presses are two. skmnist's handler shows it ran by
    putting the previous one back; for another handler, ``handled()`` says
    when it has run.
    """
    handler = signal.getsignal(signal.SIGINT)
    if handled is None:

        def handled():
            return signal.getsignal(signal.SIGINT) is not handler

    os.kill(os.getpid(), signal.SIGINT)
    deadline = time.monotonic() + 5
    while not handled() and time.monotonic() < deadline:
        time.sleep(0.001)


class CtrlC(keras.callbacks.Callback):
    """Press Ctrl-C ``times`` times as epoch ``epoch`` (0-based) begins."""

    def __init__(self, epoch, times=1, handled=None):
        super().__init__()
        self.epoch, self.times, self.handled = epoch, times, handled

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            for _ in range(self.times):
                ctrl_c(self.handled)


def fit_quietly(clf, X, y, **kwargs):
    """Fit (or partial_fit, given classes), returning the warnings it gave.

    A KeyboardInterrupt fails the test rather than ending the test session.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if kwargs:
                clf.partial_fit(X, y, **kwargs)
            else:
                clf.fit(X, y)
        except KeyboardInterrupt:
            pytest.fail("Ctrl-C was not deferred: KeyboardInterrupt")
    return [w for w in caught if not issubclass(w.category, DeprecationWarning)]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_first_ctrl_c_stops_at_the_end_of_a_batch_and_keeps_the_model(
    default_sigint, training_path, digits_flat, early_stopping
):
    X, y = digits_flat
    # 57 batches an epoch, 19 to an execution of Keras' loop.
    press = CtrlC(epoch=3)
    clf = KerasMLPClassifier(
        epochs=50,
        batch_size=32,
        callbacks=[press],
        early_stopping=early_stopping,
        random_state=0,
    )
    caught = fit_quietly(clf, X, y)
    assert [(w.category, str(w.message)) for w in caught] == [
        (UserWarning, INTERRUPTED)
    ]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert clf._training_loop == {"fit": "keras"}.get(training_path, training_path)
    # Keras' loop stops after the first execution of the fourth epoch, which
    # is not recorded (MLPClassifier records whole epochs); the compiled loop
    # stops after the whole fourth epoch.
    assert clf.n_iter_ == (4 if training_path == "compiled" else 3)
    assert len(clf.loss_curve_) == len(clf.history_["loss"]) == clf.n_iter_
    n_train = len(X) - (math.ceil(0.1 * len(X)) if early_stopping else 0)
    assert clf.t_ == clf.n_iter_ * n_train
    if early_stopping:
        assert len(clf.validation_scores_) == clf.n_iter_
        assert len(clf.history_["val_accuracy"]) == clf.n_iter_
    assert clf.score(X, y) > 0.5
    # The fitted model goes on training where it stopped.
    press.epoch = None
    clf.set_params(warm_start=True, epochs=2)
    assert [w.category for w in fit_quietly(clf, X, y)] == [ConvergenceWarning]
    assert clf.n_iter_ == 2


def test_interrupted_in_the_last_epoch_warns_only_that(
    default_sigint, monkeypatch, digits_flat
):
    from skmnist import _epochs

    monkeypatch.setattr(_epochs, "MIN_COMPILED_STEPS", 0)
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=3, callbacks=[CtrlC(epoch=2)])
    caught = fit_quietly(clf, X, y)
    assert clf._training_loop == "compiled" and clf.n_iter_ == 3
    assert [str(w.message) for w in caught] == [INTERRUPTED]


def test_the_handler_is_replaced_during_training_only(default_sigint, digits_flat):
    seen = []

    class Look(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(signal.getsignal(signal.SIGINT))

    X, y = digits_flat
    with pytest.warns(ConvergenceWarning):
        KerasMLPClassifier(epochs=1, callbacks=[Look()]).fit(X, y)
    assert seen[0] is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_second_ctrl_c_interrupts_at_once(default_sigint, training_path, digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=50, callbacks=[CtrlC(epoch=2, times=2)])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert clf.n_iter_ == 2  # the records up to there


def test_ctrl_c_after_the_last_batch_is_not_lost(default_sigint, digits_flat):
    class CtrlCAtTheEnd(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            ctrl_c()

    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=2, callbacks=[CtrlCAtTheEnd()])
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_partial_fit_stops_too(default_sigint, digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(batch_size=32, callbacks=[CtrlC(epoch=0)])
    caught = fit_quietly(clf, X, y, classes=np.arange(10))
    assert [str(w.message) for w in caught] == [INTERRUPTED]
    assert clf.n_iter_ == 0 and clf.loss_curve_ == []  # a cut-short epoch
    clf.predict(X)


def test_another_handler_is_left_alone(digits_flat):
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda *args: pressed.append(1))
    try:
        X, y = digits_flat
        # (the press waits for this handler, not for skmnist's: 5 s otherwise)
        clf = KerasMLPClassifier(
            epochs=3, callbacks=[CtrlC(epoch=1, handled=lambda: pressed)]
        )
        with pytest.warns(ConvergenceWarning):
            clf.fit(X, y)
        handler = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert pressed == [1] and clf.n_iter_ == 3
    assert handler is not signal.default_int_handler and handler.__name__ == "<lambda>"


def test_a_fit_in_another_thread_leaves_signals_alone(default_sigint, digits_flat):
    seen, errors = [], []

    class Look(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(signal.getsignal(signal.SIGINT))

    def fit():
        try:
            X, y = digits_flat
            KerasMLPClassifier(epochs=2, callbacks=[Look()]).fit(X, y)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=fit)
    thread.start()
    thread.join()
    assert errors == []
    assert seen == [signal.default_int_handler] * 2


# -- The console script's policy: one mechanism, exit at the safe point -----------


def test_exit_policy_raises_at_the_safe_point_without_a_warning(
    default_sigint, training_path, digits_flat
):
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=50, batch_size=32, callbacks=[CtrlC(epoch=3)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            with _interrupt.deferred_interrupt(_interrupt.EXIT):
                clf.fit(X, y)
    assert INTERRUPTED not in [str(w.message) for w in caught]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert clf.n_iter_ == 3  # stopped in the fourth epoch, at the end of a batch


@pytest.mark.parametrize("policy", [_interrupt.STOP, _interrupt.EXIT])
def test_a_fit_joins_the_deferral_it_runs_in(default_sigint, digits_flat, policy):
    # Ctrl-C before the fit starts, within the outer deferral: the fit honours
    # it at its first safe point, under the outer policy; without joining, it
    # would have trained all 50 epochs.
    X, y = digits_flat
    clf = KerasMLPClassifier(epochs=50, batch_size=32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _interrupt.deferred_interrupt(policy) as outer:
                ctrl_c()
                assert outer.requested
                clf.fit(X, y)
            raised = False
        except KeyboardInterrupt:
            raised = True
    messages = [str(w.message) for w in caught]
    assert clf.n_iter_ <= 1 and outer.honoured  # a compiled epoch is one step
    assert raised == (policy == _interrupt.EXIT)
    assert (INTERRUPTED in messages) == (policy == _interrupt.STOP)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_request_nothing_honoured_is_raised_at_the_end(default_sigint):
    for policy in (_interrupt.STOP, _interrupt.EXIT):
        with pytest.raises(KeyboardInterrupt):
            with _interrupt.deferred_interrupt(policy):
                ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- Real processes ------------------------------------------------------------------

FIT = """
import signal, sys, warnings
from sklearn.datasets import load_digits
from skmnist import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X / 16
if {sparse!r}:
    import scipy.sparse
    X = scipy.sparse.csr_matrix(X)  # trains through Keras' loop
clf = MLPClassifier(max_iter=100000, tol=0, n_iter_no_change=10**6,
                    verbose=True, random_state=0)
clf.fit(X, y)
"""

REPORT = """
print("loop", clf._training_loop)
print("n_iter", clf.n_iter_, len(clf.loss_curve_), len(clf.history_["loss"]))
print("accuracy", clf.score(X, y))
print("handler_restored", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""


def check_report(out, loop):
    lines = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    assert lines["loop"] == loop
    n_iter, n_losses, n_history = map(int, lines["n_iter"].split())
    assert 2 <= n_iter < 100000 and n_iter == n_losses == n_history
    assert float(lines["accuracy"]) > 0.5
    assert lines["handler_restored"] == "True"


@pytest.mark.slow
@pytest.mark.parametrize("sparse, loop", [(False, "compiled"), (True, "keras")])
def test_ctrl_c_in_a_python_process(sparse, loop):
    code = FIT.format(sparse=sparse) + REPORT
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_in_a_terminal,
    )
    try:
        for line in proc.stdout:
            if line.startswith("Iteration 2,"):
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"UserWarning: {INTERRUPTED}" in err
    assert "ConvergenceWarning" not in err
    check_report(out, loop)


@pytest.mark.slow
def test_interrupting_a_jupyter_kernel_keeps_the_fitted_model(tmp_path):
    manager = pytest.importorskip("jupyter_client.manager")
    pytest.importorskip("ipykernel")
    env = dict(os.environ)
    # The kernel spec runs "python": this one, with skmnist importable.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), *sys.path]))
    km, kc = manager.start_new_kernel(kernel_name="python3", env=env, cwd=tmp_path)
    try:
        msg_id = kc.execute(FIT.format(sparse=False))
        streams, interrupted = {"stdout": "", "stderr": ""}, False
        while True:
            msg = kc.get_iopub_msg(timeout=60)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream":
                streams[content["name"]] += content["text"]
                if not interrupted and "Iteration 2," in streams["stdout"]:
                    km.interrupt_kernel()
                    interrupted = True
            elif msg["msg_type"] == "error":
                pytest.fail("\n".join(content["traceback"]))
            elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
                break
        reply = kc.get_shell_msg(timeout=10)
        assert reply["content"]["status"] == "ok"
        assert interrupted and f"UserWarning: {INTERRUPTED}" in streams["stderr"]
        assert "ConvergenceWarning" not in streams["stderr"]

        out = []
        reply = kc.execute_interactive(
            REPORT,
            timeout=30,
            output_hook=lambda msg: out.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok", "".join(out)
        check_report("".join(out), "compiled")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
