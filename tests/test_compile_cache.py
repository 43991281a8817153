"""SKMNIST_COMPILE_CACHE: compiled programs kept on disk for later processes.

The backend reads the setting before its first compile, so the fits run in
fresh Python processes, on the backend the suite runs on.
"""

import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest

from skmnist import _compile_cache

pytestmark = pytest.mark.jax

# A compiled fit of the digits (short fits keep Keras' loop unless told).
_FIT = """
import sys
import numpy as np
from sklearn.datasets import load_digits
from skmnist import KerasMLPClassifier, _epochs
_epochs.MIN_COMPILED_STEPS = 0
X, y = load_digits(return_X_y=True)
clf = KerasMLPClassifier(epochs=3, random_state=0).fit(X / 16, y)
assert clf._training_loop == "compiled"
np.save(sys.argv[1], clf.predict_proba(X / 16))
"""


def _fit_in_a_new_process(tmp_path, name, cache):
    env = {**os.environ, "SKMNIST_COMPILE_CACHE": str(cache)}
    out = tmp_path / f"{name}.npy"
    run = subprocess.run(
        [sys.executable, "-c", _FIT, str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return np.load(out), run.stderr


def _programs(cache):
    """Each program file's name and when it was written."""
    return sorted(
        (p.name, p.stat().st_mtime_ns)
        for p in cache.rglob("*")
        # JAX notes when it last read each program, in a file of its own
        if p.is_file() and not p.name.endswith("-atime")
    )


def _tensorflow_before_2_21():
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return False
    release = importlib.metadata.version("tensorflow")
    return tuple(int(part) for part in release.split(".")[:2]) < (2, 21)


def test_a_later_process_loads_the_program_and_trains_the_same_model(tmp_path):
    cache = tmp_path / "cache"
    cold, stderr = _fit_in_a_new_process(tmp_path, "cold", cache)
    if _tensorflow_before_2_21():
        # These releases give a program a new key in each process: refused.
        assert "would never find it" in stderr
        assert _programs(cache) == []
        return
    programs = _programs(cache)
    assert programs, "the first process kept its compiled program"
    (release,) = (p for p in cache.iterdir())
    assert release.name.startswith(os.environ.get("KERAS_BACKEND", "tensorflow"))
    assert oct(release.stat().st_mode & 0o777) == "0o700"
    warm, _ = _fit_in_a_new_process(tmp_path, "warm", cache)
    assert _programs(cache) == programs, "the second process wrote no program"
    np.testing.assert_array_equal(warm, cold)


@pytest.mark.parametrize("unsafe", ["shared", "white space"])
def test_a_directory_others_can_write_is_refused_with_a_warning(
    tmp_path, monkeypatch, unsafe
):
    if unsafe == "shared":
        cache = tmp_path / "shared"
        cache.mkdir()
        cache.chmod(0o777)
        reason = f"{cache} is writable by other users"
    else:
        cache = tmp_path / "my programs"
        reason = "its path contains white space"
    monkeypatch.setenv("SKMNIST_COMPILE_CACHE", str(cache))
    monkeypatch.setattr(_compile_cache, "_enabled", False)
    flags = os.environ.get("TF_XLA_FLAGS", "")
    monkeypatch.setenv("TF_XLA_FLAGS", flags)  # restored whatever happens
    with pytest.warns(UserWarning, match="only you can write") as caught:
        assert _compile_cache.enable() is None
    assert f"SKMNIST_COMPILE_CACHE={cache} is not used: {reason}" in str(
        caught[0].message
    )
    assert os.environ.get("TF_XLA_FLAGS") == flags
    assert not cache.exists() or _programs(cache) == []
