"""What the commands share on the console: output, progress, Ctrl-C, Keras.

Nothing here imports Keras at import time: :func:`_import_keras` does, for
the commands that need it, and the callbacks are built from the module it
returns.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import json
import os
import signal
import sys
import time
import warnings


class _Failure(Exception):
    """A run-time failure whose message is all the user needs."""


def _emit(args, out, result, lines):
    """Print ``result`` as JSON with --json, else the human-readable ``lines``."""
    if args.json:
        json.dump(result, out, indent=2)
        out.write("\n")
    else:
        for line in lines:
            print(line, file=out)


def _log(args, out):
    """Where progress goes: stderr with --json, so that stdout stays JSON."""
    return sys.stderr if args.json else out


def _mnist(subset, data_home):
    """``(images, labels)`` of an MNIST subset."""
    from ..datasets import fetch_mnist

    return fetch_mnist(subset, data_home=data_home, return_X_y=True)


def _import_keras():
    """Import Keras and start its backend (and XLA) with their C++ logs hidden.

    TensorFlow writes them to file descriptor 2 before Python's logging is
    set up, so only a redirection of the descriptor hides them. The console
    script owns its process, so it may do this; the library never does.
    TensorFlow's thread pools are sized (by the process's thread budget)
    and the compile cache set before its first operation, the last moment
    they can be; a warning about them is shown once stderr is back.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras

            from .. import _backend

            with warnings.catch_warnings(record=True) as settings_refused:
                _backend.prepare_backend()
            keras.ops.convert_to_tensor(0.0)  # the backend finds its devices now
            if keras.backend.backend() == "tensorflow":
                # XLA logs its own start-up on first use: training compiles
                # with it, so start it now, while the logs are hidden.
                import tensorflow as tf

                tf.function(lambda x: x + 1, jit_compile=True)(tf.constant(0.0))
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    for caught in settings_refused:  # say it where the user can read it
        warnings.showwarning(
            caught.message, caught.category, caught.filename, caught.lineno
        )
    return keras


def _load_model(path):
    """Load a model file, checked in full before Keras is imported."""
    from ..persistence import read_model_file

    try:
        model_file = read_model_file(path)
        _import_keras()
        return model_file.build()
    except (OSError, ValueError) as exc:
        raise _Failure(str(exc)) from None


def _progress_callback(keras, epochs, stream):
    """A Keras callback drawing a bar per epoch on a terminal, lines elsewhere."""
    tty = stream.isatty()

    class EpochProgress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = self.shown = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.epoch_start = time.perf_counter()

        def _left(self, epochs_done):
            elapsed = time.perf_counter() - self.start
            return elapsed / epochs_done * (epochs - epochs_done) if epochs_done else 0

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            if not tty or now - self.shown < 0.1:
                return
            self.shown = now
            done = min((batch + 1) / (self.params.get("steps") or 1), 1.0)
            line = _bar_line(self.epoch, epochs, done, logs or {})
            left = self._left(self.epoch + done)
            print(f"\r{line}{left:.0f} s left ", end="", file=stream, flush=True)

        def on_epoch_end(self, epoch, logs=None):
            line = _epoch_line(epoch, epochs, logs or {})
            line += f"  ({time.perf_counter() - self.epoch_start:.1f} s"
            left = self._left(epoch + 1)
            line += f", {left:.0f} s left)" if epoch + 1 < epochs else ")"
            print(("\r\033[K" if tty else "") + line, file=stream, flush=True)

    return EpochProgress()


def _bar_line(epoch, epochs, done, logs):
    """The progress bar of an epoch ``done`` (a share) through."""
    bar = "#" * int(20 * done)
    return (
        f"epoch {epoch + 1}/{epochs} [{bar:<20}] "
        f"loss {logs.get('loss', 0):.4f}  accuracy {logs.get('accuracy', 0):.4f}  "
    )


def _epoch_line(epoch, epochs, logs):
    """The line that sums up a finished epoch, without its time."""
    line = (
        f"epoch {epoch + 1}/{epochs}  loss {logs['loss']:.4f}  "
        f"accuracy {logs['accuracy']:.4f}"
    )
    if "val_accuracy" in logs:
        line += f"  val_accuracy {logs['val_accuracy']:.4f}"
    return line


class _DeferredInterrupt:
    """Hold Ctrl-C during training until a callback can stop at a safe point.

    A ``KeyboardInterrupt`` raised while TensorFlow's C++ code is running
    (converting a value, say) can crash the process with a segmentation
    fault. So within ``with`` the first Ctrl-C is only recorded, and
    :meth:`callback` raises it at the end of the current batch (Keras'
    ``fit``) or epoch (the compiled loop). A second Ctrl-C interrupts at
    once, as usual.
    """

    def __init__(self):
        self.pending = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._record)
        return self

    def __exit__(self, *exc_info):
        signal.signal(signal.SIGINT, self.previous)
        if self.pending and exc_info[0] is None:
            raise KeyboardInterrupt

    def _record(self, signum, frame):
        self.pending = True
        signal.signal(signal.SIGINT, self.previous)

    def callback(self, keras):
        """A Keras callback raising the recorded Ctrl-C."""
        interrupt = self  # a closure, not an attribute: Keras may copy callbacks

        class RaiseInterrupt(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if interrupt.pending:
                    raise KeyboardInterrupt

            on_epoch_end = on_train_batch_end

        return RaiseInterrupt()
