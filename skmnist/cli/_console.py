"""What the commands share on the console: output, progress, Keras.

Nothing here imports Keras at import time: :func:`import_keras` does, for
the commands that need it, and the callbacks are built from the module it
returns.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import json
import math
import sys
import time


class Failure(Exception):
    """A run-time failure whose message is all the user needs."""


def printable(text):
    """``text`` with every character a terminal would act on escaped.

    Untrusted text (class labels from a model file, file names) goes to the
    terminal through this: a newline could forge an output line, an escape
    sequence change the terminal, a BiDi override reverse what is read.
    Control, format and separator characters become ``\\xNN``,
    ``\\uNNNN`` or ``\\UNNNNNNNN``; the bytes of a file name that are not
    UTF-8 (kept by Python as lone surrogates) become ``\\xNN``.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char):
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def json_safe(value):
    """``value`` with NaN and infinities as None: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def emit(args, out, result, lines):
    """Print ``result`` as JSON with --json, else the human-readable ``lines``.

    The JSON is exact (strings as they are, escaped by JSON's rules), but
    for non-finite numbers, which are ``null``. Untrusted text in ``lines``
    must have gone through :func:`printable`.
    """
    if args.json:
        json.dump(json_safe(result), out, indent=2, allow_nan=False)
        out.write("\n")
    else:
        for line in lines:
            print(line, file=out)


class JsonArrayWriter:
    """Write a JSON array to ``out`` an item at a time, as :func:`emit` would whole.

    Each item is on ``out`` (flushed) as soon as it is appended; the text
    is the same as ``json.dump(items, out, indent=2)`` once the ``with``
    ends.
    """

    def __init__(self, out):
        self.out = out
        self.count = 0

    def __enter__(self):
        return self

    def append(self, item):
        text = json.dumps(json_safe(item), indent=2, allow_nan=False)
        text = text.replace("\n", "\n  ")
        self.count += 1
        self.out.write(("[\n  " if self.count == 1 else ",\n  ") + text)
        self.out.flush()

    def __exit__(self, *exc_info):
        self.out.write("\n]\n" if self.count else "[]\n")
        self.out.flush()


def log_stream(args, out):
    """Where progress goes: stderr with --json, so that stdout stays JSON."""
    return sys.stderr if args.json else out


def mnist(subset, data_home):
    """``(images, labels)`` of an MNIST subset."""
    from ..datasets import fetch_mnist

    return fetch_mnist(subset, data_home=data_home, return_X_y=True)


def import_keras():
    """Import Keras and start its backend, before the first fit needs them.

    The backend's thread pools are sized and the compile cache set before
    its first operation, the last moment they can be; TensorFlow's C++
    start-up notes are filtered out as in the library
    (:mod:`skmnist._startup_logs`).
    """
    import keras

    from .. import _backend

    _backend.prepare_backend()
    return keras


def load_model(path):
    """Load a model file, checked in full before Keras is imported."""
    from ..persistence import read_model_file

    try:
        model_file = read_model_file(path)
        import_keras()
        return model_file.build()
    except (OSError, ValueError) as exc:
        raise Failure(str(exc)) from None


def progress_callback(keras, epochs, stream):
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
