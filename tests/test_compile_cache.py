"""SKMNIST_COMPILE_CACHE: compiled programs kept on disk for later processes.

The backend reads the setting before its first compile, so the fits run in
fresh Python processes, on the backend the suite runs on.
"""

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import warnings

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


def _fit_in_a_new_process(tmp_path, name, cache, backend=None):
    env = {**os.environ, "SKMNIST_COMPILE_CACHE": str(cache)}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
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


# The backend of the tests that start from a kept program: the suite's, or
# JAX where TensorFlow's programs are refused (before 2.21).
_BACKEND = (
    "jax"
    if _tensorflow_before_2_21()
    else os.environ.get("KERAS_BACKEND", "tensorflow")
)


@pytest.fixture(scope="module")
def cold_cache(tmp_path_factory):
    """``restore()``: a cold fit's cache, as the fit left it, and its probabilities.

    The cold fit (a new process that compiles and keeps its program) runs
    once, on :data:`_BACKEND`. Each test that starts from it gets the cache
    back as the fit left it (the files' times and the directories' modes
    too), at the same path: JAX's keys depend on the cache's path.
    """
    made = {}
    where = tmp_path_factory.mktemp("cold")
    cache, pristine = where / "cache", where / "pristine"

    def restore():
        if not made:
            made["proba"], _ = _fit_in_a_new_process(where, "cold", cache, _BACKEND)
            shutil.copytree(cache, pristine)
        shutil.rmtree(cache)
        shutil.copytree(pristine, cache)
        return cache, made["proba"]

    return restore


def test_a_later_process_loads_the_program_and_trains_the_same_model(
    tmp_path, cold_cache
):
    if _tensorflow_before_2_21():
        # These releases give a program a new key in each process: refused.
        cache = tmp_path / "cache"
        _, stderr = _fit_in_a_new_process(tmp_path, "cold", cache)
        assert "would never find it" in stderr
        assert _programs(cache) == []
        return
    cache, cold = cold_cache()
    programs = _programs(cache)
    assert programs, "the first process kept its compiled program"
    (release,) = (p for p in cache.iterdir())
    assert release.name.startswith(os.environ.get("KERAS_BACKEND", "tensorflow"))
    assert oct(release.stat().st_mode & 0o777) == "0o700"
    warm, _ = _fit_in_a_new_process(tmp_path, "warm", cache)
    assert _programs(cache) == programs, "the second process wrote no program"
    np.testing.assert_array_equal(warm, cold)


# -- one directory per CPU -----------------------------------------------------------


def _edited(cpuinfo, old, new):
    edited = cpuinfo.replace(old, new)
    assert edited != cpuinfo, f"{old!r} is not in the text"
    return edited


def test_a_cpu_with_other_instructions_or_model_gets_another_directory():
    real = _compile_cache.CPUINFO.read_text()
    key = _compile_cache.cpu_key()
    assert key == _compile_cache.cpu_key(real)
    assert re.fullmatch(r"cpu-[0-9a-f]{16}", key)
    flags = re.search(r"^(flags|Features)\s*:(.*)$", real, re.M)
    words = flags.group(2).split()
    others = [
        # one instruction set fewer (AVX-512 on one machine, not on the other)
        _edited(real, flags.group(0), flags.group(0).replace(f" {words[-1]}", "")),
        # one more
        _edited(real, flags.group(0), flags.group(0) + " avx10_2"),
        # another model of the same vendor
        _edited(real, "model name", "model name\t: Another CPU\nold name"),
        # a machine with an older core among its processors
        real + "\nprocessor\t: 99\n" + flags.group(0).replace(f" {words[-1]}", ""),
    ]
    keys = [_compile_cache.cpu_key(text) for text in others]
    assert len({key, *keys}) == 1 + len(others)
    # what does not change the instructions does not change the directory
    blocks = real.strip().split("\n\n")
    same = [
        "\n\n".join(reversed(blocks)),
        re.sub(r"^(cpu MHz|bogomips)\s*:.*$", r"\1 : 1234.5", real, flags=re.M),
        real.replace(flags.group(0), f"{flags.group(1)}\t: " + " ".join(words[::-1])),
    ]
    assert {_compile_cache.cpu_key(text) for text in same} == {key}


def test_arm_features_are_read_too():
    arm = (
        "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes sve\n"
        "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x1\n"
        "CPU part\t: 0xd40\n"
    )
    assert _compile_cache.cpu_key(arm) != _compile_cache.cpu_key(
        arm.replace(" sve", "")
    )
    assert _compile_cache.cpu_key(arm) != _compile_cache.cpu_key(
        arm.replace("0xd40", "0xd0c")
    )


# A compiled fit as _FIT, on a CPU described by another cpuinfo text.
_FIT_ON = _FIT.replace(
    "from skmnist import KerasMLPClassifier, _epochs\n",
    "from pathlib import Path\n"
    "from skmnist import KerasMLPClassifier, _compile_cache, _epochs\n"
    "_compile_cache.CPUINFO = Path(sys.argv[2])\n",
)


def test_a_program_compiled_on_one_cpu_is_not_loaded_on_another(tmp_path, cold_cache):
    real = _compile_cache.CPUINFO.read_text()
    other = tmp_path / "cpuinfo"
    other.write_text(re.sub(r"\bavx2\b|\bneon\b|\basimd\b", "", real))
    assert other.read_text() != real
    cache, here = cold_cache()
    programs = _programs(cache)
    assert programs
    (release,) = cache.iterdir()
    (ours,) = release.iterdir()
    assert ours.name == _compile_cache.cpu_key()
    # the other CPU finds no program: it compiles and keeps its own, apart
    run = subprocess.run(
        [sys.executable, "-c", _FIT_ON, str(tmp_path / "there.npy"), str(other)],
        env={
            **os.environ,
            "SKMNIST_COMPILE_CACHE": str(cache),
            "KERAS_BACKEND": _BACKEND,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    theirs = release / _compile_cache.cpu_key(other.read_text())
    assert sorted(release.iterdir()) == sorted([ours, theirs])
    assert _programs(ours) == programs, "this CPU's programs are untouched"
    # as many (on JAX the two scripts gave the same programs other names)
    assert len(_programs(theirs)) == len(programs)
    assert oct(theirs.stat().st_mode & 0o777) == "0o700"
    np.testing.assert_array_equal(np.load(tmp_path / "there.npy"), here)


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


@pytest.mark.parametrize("off", ["0", "off", "False", " no ", "none", ""])
def test_a_setting_that_says_off_is_no_cache_and_no_directory(
    tmp_path, monkeypatch, off
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKMNIST_COMPILE_CACHE", off)
    monkeypatch.setattr(_compile_cache, "_enabled", False)
    flags = os.environ.get("TF_XLA_FLAGS", "")
    monkeypatch.setenv("TF_XLA_FLAGS", flags)  # restored whatever happens
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _compile_cache.enable() is None
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("TF_XLA_FLAGS") == flags


# -- a cache is never a reason to fail ------------------------------------------------


def _program_files(cache):
    """The compiled programs in ``cache``: TensorFlow's .pb, JAX's ...-cache files."""
    return sorted(
        p
        for p in cache.rglob("*")
        if p.is_file() and (p.suffix == ".pb" or p.name.endswith("-cache"))
    )


def _cache_warnings(stderr):
    """The warnings about the cache: skmnist's, and the backend's own."""
    return [
        line
        for line in stderr.splitlines()
        if "SKMNIST_COMPILE_CACHE=" in line
        or "persistent compilation cache entry" in line
    ]


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def test_a_program_cut_short_is_compiled_again_with_one_warning(tmp_path, cold_cache):
    # 0.x on TensorFlow: every later fit failed ("Read less bytes than
    # requested") until the file was deleted by hand; JAX warned per program.
    cache, cold = cold_cache()
    programs = {p: p.stat().st_size for p in _program_files(cache)}
    assert programs
    for path, size in programs.items():
        with path.open("r+b") as f:
            f.truncate(size // 2)
    release = next(iter(programs)).parent
    # what a process killed while writing its program leaves
    left = release / f"xla_compile_cache__1__2__XLA_CPU_JIT.pbhost-{_dead_pid()}-7f.tmp"
    left.write_bytes(b"\0" * 1000)
    warm, stderr = _fit_in_a_new_process(tmp_path, "warm", cache, _BACKEND)
    np.testing.assert_array_equal(warm, cold)
    (warning,) = _cache_warnings(stderr)
    assert f"deleted {len(programs)} cached program(s) cut short or damaged" in warning
    assert "deleted 1 temporary file(s) a process left half written" in warning
    # compiled and written whole again (JAX's compressed size may vary a little)
    assert _program_files(cache) == sorted(programs)
    assert all(_compile_cache._whole(p) for p in programs)
    assert all(p.stat().st_size > programs[p] // 2 for p in programs)
    assert not left.exists()


@pytest.fixture
def full_filesystem(tmp_path):
    """A directory on a filesystem with no room (a 64 KiB tmpfs, filled)."""
    mount = tmp_path / "full"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        (mount / "filler").write_bytes(b"\0" * 60 * 1024)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_filesystem_is_only_read_and_left_clean(tmp_path, full_filesystem):
    # 0.x on TensorFlow: every fit failed ("No space left on device") and left
    # a partial temporary file; JAX warned at each program and left partial ones.
    cache = full_filesystem / "cache"
    _, stderr = _fit_in_a_new_process(tmp_path, "fit", cache, _BACKEND)
    (warning,) = _cache_warnings(stderr)
    assert "MiB free" in warning
    assert [p for p in cache.rglob("*") if p.is_file()] == []


_DISK_FILLS = """
import os, sys, warnings
import numpy as np
from sklearn.datasets import load_digits
from skmnist import KerasMLPClassifier, _backend, _compile_cache, _epochs
_epochs.MIN_COMPILED_STEPS = 0
_backend.prepare_backend()
# the disk fills once the cache is in use
free = os.statvfs(sys.argv[1]).f_bavail * os.statvfs(sys.argv[1]).f_frsize
with open(os.path.join(sys.argv[1], "filler"), "wb") as f:
    f.write(bytes(free))
X, y = load_digits(return_X_y=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    KerasMLPClassifier(epochs=3, random_state=0).fit(X / 16, y)
    clf = KerasMLPClassifier(epochs=3, random_state=1).fit(X / 16, y)
print("trained", clf._training_loop)
for w in caught:
    if "SKMNIST_COMPILE_CACHE" in str(w.message):
        print("warned", w.message)
"""


def test_a_disk_that_fills_during_training_is_recovered_from(tmp_path):
    mount = tmp_path / "filling"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=20m,mode=700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.fail(f"cannot mount a small tmpfs here: {made.stderr.strip()}")
    try:
        run = subprocess.run(
            [sys.executable, "-c", _DISK_FILLS, str(mount)],
            env={
                **os.environ,
                "SKMNIST_COMPILE_CACHE": str(mount / "cache"),
                "KERAS_BACKEND": _BACKEND,
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        if _BACKEND == "tensorflow":
            # TensorFlow writes each program it compiles, or fails the call
            # the fit goes on in Keras' loop, with one warning for the process
            (warned,) = [line for line in run.stdout.splitlines() if "warned" in line]
            assert "No space left on device" in warned
            assert "trained keras" in run.stdout
        else:
            assert "trained" in run.stdout  # JAX warns and goes on by itself
        partial = [p.name for p in mount.rglob("*.tmp")]
        assert partial == []
    finally:
        subprocess.run(["umount", str(mount)], check=True)
