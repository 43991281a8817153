"""Ctrl-C during training: one mechanism, two policies.

A ``KeyboardInterrupt`` raised while TensorFlow's C++ code runs can crash
the process, and one raised between two batches throws away a network that
trained for minutes. So while :func:`deferred_interrupt` is active the first
Ctrl-C (SIGINT) is only recorded, in :attr:`Interrupt.requested`. A training
loop looks at it at each safe point, the end of a batch (Keras'
``Model.fit``, or a short fit step by step) or of a compiled epoch
(:mod:`skmnist._epochs`), and there sets :attr:`Interrupt.honoured`. What
honouring means is the policy of the outermost ``with``:

- :data:`STOP` (``fit``): training stops there, keeps the model and says it
  was interrupted, as scikit-learn's ``MLPClassifier`` does;
- :data:`EXIT` (the console script): ``KeyboardInterrupt`` is raised there,
  and the command exits with code 130.

The first Ctrl-C puts the previous handler back, so a second one interrupts
at once. A request no loop honoured (it came after the last batch) is raised
as ``KeyboardInterrupt`` when the outermost ``with`` ends, unless an
exception is already on its way: it is never lost. A ``with`` inside another
(a ``fit`` inside the console script's) joins it: the same
:class:`Interrupt`, under the outer policy.

Only the usual handler is replaced, :func:`signal.default_int_handler`, in
the main thread: that of a plain Python process, and of a Jupyter (ipykernel)
cell while it runs. Under any other handler, outside the main thread, or
with SIGINT ignored, nothing changes.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import signal
import threading

#: Policy of ``fit``: stop at the safe point, keep the model, warn.
STOP = "stop"
#: Policy of the console script: raise ``KeyboardInterrupt`` at the safe point.
EXIT = "exit"

# The deferral in force in the main thread, which an inner ``with`` joins.
_active = None


class Interrupt:
    """What became of Ctrl-C during one deferral.

    Parameters
    ----------
    installed : bool, default=False
        Whether Ctrl-C is deferred at all (see :func:`deferred_interrupt`).
    policy : {"stop", "exit"}, default="stop"
        What honouring a request does: :data:`STOP` or :data:`EXIT`.

    Attributes
    ----------
    installed : bool
        Whether Ctrl-C is deferred at all.
    policy : str
        :data:`STOP` or :data:`EXIT`.
    requested : bool
        Whether Ctrl-C was pressed: training should stop at the next safe
        point.
    honoured : bool
        Whether training stopped because of it. A training loop sets it at
        the safe point where it stops; under :data:`EXIT`, setting it raises
        ``KeyboardInterrupt`` right there.
    """

    def __init__(self, installed=False, policy=STOP):
        if policy not in (STOP, EXIT):
            raise ValueError(f"policy must be {STOP!r} or {EXIT!r}, got {policy!r}")
        self.installed = installed
        self.policy = policy
        self.requested = False
        self._honoured = False

    @property
    def honoured(self):
        return self._honoured

    @honoured.setter
    def honoured(self, value):
        self._honoured = bool(value)
        if self._honoured and self.policy == EXIT:
            raise KeyboardInterrupt

    def _record(self, signum, frame):
        """The SIGINT handler while deferred: note the request, step aside."""
        self.requested = True
        signal.signal(signal.SIGINT, self._previous)


@contextlib.contextmanager
def deferred_interrupt(policy=STOP):
    """Within ``with``, the first Ctrl-C sets ``requested`` instead of raising.

    Parameters
    ----------
    policy : {"stop", "exit"}, default="stop"
        What a training loop's safe point does with the request:
        :data:`STOP` stops training there (``fit``: keep the model, warn);
        :data:`EXIT` raises ``KeyboardInterrupt`` there (the console script).
        Inside another ``with``, the outer one's policy holds.

    Yields
    ------
    interrupt : Interrupt
        Shared with the ``with`` this one is inside, if any. The previous
        handler is back on exit, and after the first Ctrl-C, so a second one
        raises ``KeyboardInterrupt`` at once. A request not honoured is raised
        on exit of the outermost ``with``, unless an exception is already on
        its way: it is never lost.
    """
    global _active
    if threading.current_thread() is not threading.main_thread():
        yield Interrupt(policy=policy)
        return
    if _active is not None:  # join the deferral in force
        yield _active
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield Interrupt(policy=policy)
        return
    interrupt = Interrupt(installed=True, policy=policy)
    interrupt._previous = signal.default_int_handler
    signal.signal(signal.SIGINT, interrupt._record)
    _active = interrupt
    try:
        yield interrupt
    finally:
        _active = None
        signal.signal(signal.SIGINT, interrupt._previous)
    if interrupt.requested and not interrupt.honoured:
        raise KeyboardInterrupt
