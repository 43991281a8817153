"""Ctrl-C during training: stop at the next safe point and keep the model.

A ``KeyboardInterrupt`` raised while TensorFlow's C++ code runs can crash
the process, and one raised between two batches throws away a network that
trained for minutes. So while :func:`deferred_interrupt` is active the first
Ctrl-C (SIGINT) is only recorded: the training loop reads
:attr:`Interrupt.requested` at the end of each batch (Keras' ``Model.fit``,
or a short fit step by step) or compiled epoch (:mod:`skmnist._fast`),
stops there and says it was interrupted, as scikit-learn's
``MLPClassifier`` does. The first Ctrl-C puts the previous handler back, so
a second one interrupts at once.

Only the usual handler is replaced, :func:`signal.default_int_handler`, in
the main thread: that of a plain Python process, and of a Jupyter (ipykernel)
cell while it runs. Under any other handler (skmnist's console script has
its own), outside the main thread, or with SIGINT ignored, nothing changes.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import signal
import threading


class Interrupt:
    """What became of Ctrl-C during one training.

    Attributes
    ----------
    installed : bool
        Whether Ctrl-C is deferred at all (see :func:`deferred_interrupt`).
    requested : bool
        Whether Ctrl-C was pressed: training should stop at the next safe
        point.
    honoured : bool
        Whether training stopped because of it (set by the training loop).
    """

    def __init__(self, installed=False):
        self.installed = installed
        self.requested = False
        self.honoured = False


@contextlib.contextmanager
def deferred_interrupt():
    """Within ``with``, the first Ctrl-C sets ``requested`` instead of raising.

    Yields an :class:`Interrupt`. The previous handler is back on exit, and
    after the first Ctrl-C, so a second one raises ``KeyboardInterrupt`` at
    once. A Ctrl-C that training did not honour (it came after the last
    batch) is raised on exit, unless an exception is already on its way:
    it is never lost.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield Interrupt()
        return
    interrupt = Interrupt(installed=True)
    previous = signal.default_int_handler

    def record(signum, frame):
        interrupt.requested = True
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, record)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupt.requested and not interrupt.honoured:
        raise KeyboardInterrupt
