"""TensorFlow's C++ start-up notes stay out of the user's output."""

import os
import re
import subprocess
import sys

import pytest

from skmnist._startup_logs import _kept

# absl's prefix, and TensorFlow 2.18's own
_LOG_LINE = re.compile(r"^(?:[IWEF]\d{4} |\d{4}-\d\d-\d\d [\d:.]+: [IWEF] )", re.M)

# A fit and a prediction, in a script.
_FIT = """
import warnings
from sklearn.datasets import load_digits
import skmnist
X, y = load_digits(return_X_y=True)
warnings.simplefilter("ignore")
clf = skmnist.KerasMLPClassifier(epochs=2, random_state=0).fit(X / 16, y)
clf.predict(X)
print("done")
"""
# Augmented digits drawn to look at, before any fit: Keras' first use.
_AUGMENT = """
import numpy as np
import skmnist
skmnist.ImageAugmentation().augment(np.zeros((2, 8, 8)), random_state=0)
print("done")
"""


def _stderr(level, script=_FIT):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.pop("KERAS_BACKEND", None)
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    run = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "done"
    return run.stderr


@pytest.mark.slow
def test_a_fit_prints_no_start_up_notes_unless_asked():
    quiet = _stderr(None)
    assert not _LOG_LINE.search(quiet), quiet[:2000]
    assert "absl::InitializeLog" not in quiet
    assert "cuInit" not in quiet
    # the user's own setting wins: 0 shows everything TensorFlow says
    loud = _stderr("0")
    assert _LOG_LINE.search(loud)


def test_drawing_augmented_digits_first_prints_no_start_up_notes():
    quiet = _stderr(None, _AUGMENT)
    assert not _LOG_LINE.search(quiet), quiet[:2000]
    assert "cuInit" not in quiet


def test_what_is_not_a_start_up_note_is_kept():
    text = (
        b"WARNING: All log messages before absl::InitializeLog() is called are "
        b"written to STDERR\n"
        b"I0000 00:00:1.0  1 port.cc:153] oneDNN custom operations are on.\n"
        b"I0000 00:00:1.0  1 cpu_feature_guard.cc:227] This TensorFlow binary\n"
        b"To enable the following instructions: AVX2 FMA, in other operations\n"
        b"E0000 00:00:1.0  1 cuda_platform.cc:52] failed call to cuInit: x\n"
        b"2026-12-02 00:57:41.058242: E external/local_xla/xla/stream_executor/"
        b"cuda/cuda_fft.cc:477] Unable to register cuFFT factory: Attempting to "
        b"register factory for plugin cuFFT when one has already been registered\n"
        b"E0000 00:00:1.0  1 cuda_dnn.cc:8310] Unable to register cuDNN factory: x\n"
        b"2026-12-02 00:57:44.158710: E external/local_xla/xla/stream_executor/"
        b"cuda/cuda_driver.cc:152] failed call to cuInit: INTERNAL: CUDA error\n"
        b"2026-12-02 00:57:44.158710: I tensorflow/core/x.cc:1] a note\n"
        b"2026-12-02 00:57:44.158710: E tensorflow/core/y.cc:2] another error\n"
        b"E0000 00:00:1.0  1 op.cc:1] a real error\n"
        b"Traceback (most recent call last):\n"
        b'  File "x.py", line 1\n'
        b"ValueError: boom\n"
    )
    kept = _kept(text, None)
    assert kept == (
        b"2026-12-02 00:57:44.158710: E tensorflow/core/y.cc:2] another error\n"
        b"E0000 00:00:1.0  1 op.cc:1] a real error\n"
        b"Traceback (most recent call last):\n"
        b'  File "x.py", line 1\n'
        b"ValueError: boom\n"
    )
    # a level the user set: 3 hides errors too, 1 keeps them
    assert b"a real error" not in _kept(text, 3)
    assert b"a real error" in _kept(text, 1)
    assert b"oneDNN" not in _kept(text, 1)
