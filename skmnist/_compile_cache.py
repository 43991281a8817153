"""Compiled programs kept on disk for later processes: opt in with an environment variable.

A process's first fit of a network compiles its epoch program, about half a
second that every new process pays again: each run of a script or of the
``skmnist`` command, each of joblib's or Dask's workers. With
``SKMNIST_COMPILE_CACHE`` naming a directory (unset, empty, ``0``, ``off``,
``false``, ``no`` or ``none``: no cache), the backend's own persistent
cache (TensorFlow's XLA cache, JAX's compilation cache) keeps the programs
there, and a later process training the same network loads its program
instead of compiling it.

A cached program is machine code the process runs, so the directory must be
one only its user can write: one that others can write is refused with a
warning, and training goes on without it. Programs live in a subdirectory
per backend release (``tensorflow-2.21.0-ga481b10260d``, with the commit
TensorFlow was built from, or ``jax-0.10.2-jaxlib-0.10.2``: the compiler
ships inside those), so an upgrade never loads an older
release's programs, and within it in one per CPU (:func:`cpu_key`): the
backend compiles for the instructions of the CPU it runs on (AVX-512, say),
and a home directory shared by machines with other CPUs must never hand one
of them a program it cannot run. The CPU's name is a hash of its model and
instruction-set features: on Linux the vendor, family, model, model name
and ``flags`` (x86) or ``Features`` (ARM) lines of ``/proc/cpuinfo``, every
distinct value over all processors; on macOS ``sysctl``'s brand string and
feature lists; elsewhere ``platform.processor()``. A CPU that differs in any
of those gets a directory of its own (and compiles again); a kernel that
names one more flag costs a recompile, never a crash.
The backend reads the setting before its first compile: a process that has
already compiled (say, with its own Keras model) keeps running without it.
TensorFlow before 2.21 is refused with a warning: it gave the same program a
new key in every process.

A cache is never a reason to fail. Before the backend sees the directory,
programs cut short (a full disk, a killed copy) and temporary files their
writers left are deleted, to be compiled again; on a filesystem with less
than :data:`MIN_FREE_BYTES` free, or a directory this process cannot write,
programs are only read. Each is said in one warning. A process that cannot
write its program once training runs (the disk filled meanwhile) gets
:func:`recover`'s verdict, and deletes what it left half written when it
exits.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import atexit
import hashlib
import os
import platform
import re
import shutil
import stat
import subprocess
import time
import warnings
import zlib
from pathlib import Path

import keras

ENV = "SKMNIST_COMPILE_CACHE"
# Settings that mean "no cache", as an empty or unset variable does.
_OFF = {"0", "off", "false", "no", "none"}
# Below this much free space programs are only read: one is a few hundred
# kilobytes to a few megabytes.
MIN_FREE_BYTES = 16 * 2**20
# A temporary file older than this is left over, whoever wrote it.
_STALE_SECONDS = 3600

_enabled = False
# The directory in use, once enable found one.
_directory = None
_warned = False


def enable():
    """Point the backend's persistent compilation cache at ``$SKMNIST_COMPILE_CACHE``, once.

    Returns
    -------
    directory : pathlib.Path or None
        Where this backend's programs go, or None without a usable setting.
    """
    global _enabled
    if _enabled:
        return None
    _enabled = True
    setting = os.environ.get(ENV, "")
    if setting.strip().lower() in {"", *_OFF}:
        return None
    root = Path(setting).expanduser().absolute()
    if not _private(root, root):
        return None
    backend = keras.backend.backend()
    release = _release(backend)
    if release is None:
        return None
    directory = root / release / cpu_key()
    if not (_private(root / release, root) and _private(directory, root)):
        return None
    if backend == "tensorflow":
        flags = os.environ.get("TF_XLA_FLAGS", "")
        if "tf_xla_persistent_cache_directory" in flags:
            return None  # the user's own setting stands
        notes = _tidy(directory)
        read_only = _read_only(directory)
        if read_only:
            notes.append(read_only)
        option = f"--tf_xla_persistent_cache_directory={directory}"
        if read_only:
            option += " --tf_xla_persistent_cache_read_only=true"
        if notes:
            _warn(f"{ENV}={root}: " + "; ".join(notes) + ". Training goes on.")
        os.environ["TF_XLA_FLAGS"] = f"{flags} {option}".strip()
        global _directory
        _directory = directory
        atexit.register(_remove_partial_files, directory, os.getpid())
    else:
        import jax

        notes = _tidy(directory)
        read_only = _read_only(directory)
        if read_only:
            # JAX cannot only read: it would warn at every program it fails to write
            notes.append(
                read_only.replace("programs are only read from it", "it is not used")
            )
        if notes:
            _warn(f"{ENV}={root}: " + "; ".join(notes) + ". Training goes on.")
        if read_only:
            return None
        jax.config.update("jax_compilation_cache_dir", str(directory))
        # JAX keeps only programs that took a second to compile by default;
        # the epoch programs take less and are worth keeping.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return directory


def _release(backend):
    """The name of the backend release's subdirectory, or None if it cannot cache."""
    if backend == "jax":
        import jax
        import jaxlib

        return f"jax-{jax.__version__}-jaxlib-{jaxlib.__version__}"
    if backend != "tensorflow":
        return None
    import tensorflow as tf

    if tuple(int(part) for part in tf.__version__.split(".")[:2]) < (2, 21):
        # Measured on 2.18: each process lowered the same program to
        # different HLO, so no program was ever found again.
        warnings.warn(
            f"{ENV} is not used: TensorFlow {tf.__version__} builds a program "
            "differently in each process, so a later process would never find "
            "it and the directory would only grow. skmnist uses the cache from "
            "TensorFlow 2.21 on.",
            UserWarning,
            stacklevel=2,
        )
        return None
    # The build too: two builds of one release (a nightly, a source build)
    # need not read each other's programs.
    build = re.search(r"-g([0-9a-f]+)$", tf.version.GIT_VERSION)
    return f"tensorflow-{tf.__version__}" + (f"-g{build.group(1)}" if build else "")


# Where Linux describes the CPU; the lines of it that say which instructions
# it runs: x86's vendor, family, model and flags, ARM's implementer,
# architecture, variant, part and features, RISC-V's ISA, POWER's model.
CPUINFO = Path("/proc/cpuinfo")
_CPU_FIELDS = {
    "vendor_id",
    "cpu family",
    "model",
    "model name",
    "flags",
    "CPU implementer",
    "CPU architecture",
    "CPU variant",
    "CPU part",
    "Features",
    "isa",
    "uarch",
    "cpu",
}
# Lists of features, whose order means nothing.
_CPU_LISTS = {"flags", "Features", "isa"}
_SYSCTL = (
    "machdep.cpu.brand_string",
    "machdep.cpu.features",
    "machdep.cpu.leaf7_features",
    "machdep.cpu.extfeatures",
    "hw.optional",
)


def cpu_key(cpuinfo=None):
    """The name of this CPU's subdirectory: a short hash of its model and features.

    Parameters
    ----------
    cpuinfo : str, optional
        The text of ``/proc/cpuinfo`` to describe; by default this
        machine's (`CPUINFO`), or where there is none, what ``sysctl``
        (macOS) or ``platform.processor()`` says.

    Returns
    -------
    key : str
        ``"cpu-"`` and 16 hexadecimal digits; the same for every process on
        this CPU, different for a CPU of another model or instruction set.
    """
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(errors="replace")
        except OSError:
            cpuinfo = ""
    lines = set()
    for line in cpuinfo.splitlines():
        name, colon, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if colon and name in _CPU_FIELDS:
            if name in _CPU_LISTS:
                value = " ".join(sorted(value.split()))
            lines.add(f"{name}: {value}")
    if not lines:
        lines = {_other_systems_cpu()}
    text = "\n".join([platform.machine(), *sorted(lines)])
    return "cpu-" + hashlib.sha256(text.encode()).hexdigest()[:16]


def _other_systems_cpu():
    """The CPU's model and features where there is no ``/proc/cpuinfo``."""
    if platform.system() == "Darwin":
        try:
            run = subprocess.run(
                ["sysctl", *_SYSCTL], capture_output=True, text=True, timeout=10
            )
            if run.stdout.strip():
                return run.stdout
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _private(path, root):
    """Create ``path`` (mode 700) if need be; whether only this user can write it."""
    if any(c.isspace() for c in str(path)):
        # TensorFlow splits its flags at white space.
        return _refuse(root, "its path contains white space")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        return _refuse(root, f"it cannot be created ({error.strerror})")
    if not hasattr(os, "getuid"):
        return True  # Windows: no owner and mode bits to check
    info = path.stat()
    if info.st_uid != os.getuid():
        return _refuse(root, f"{path} belongs to another user")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return _refuse(root, f"{path} is writable by other users")
    return True


def _refuse(root, reason):
    warnings.warn(
        f"{ENV}={root} is not used: {reason}. Compiled programs are machine code "
        "this process would run, so their directory must be one only you can "
        f"write; point {ENV} at a directory of your own (skmnist creates it "
        "with mode 700). Training goes on, compiling its programs.",
        UserWarning,
        stacklevel=2,
    )
    return False


# -- a cache that cannot stop work ---------------------------------------------------

# TensorFlow's temporary name: the program's name, then "<host>-<pid>-<time>.tmp".
_PARTIAL = re.compile(r"-(\d+)-[0-9a-f]+\.tmp$")


def _tidy(directory):
    """Delete programs cut short and files left half written; say what went."""
    damaged = partial = 0
    for path in directory.iterdir():
        try:
            if path.name.endswith(".tmp"):
                if _left_over(path):
                    path.unlink()
                    partial += 1
            elif not _whole(path):
                path.unlink()
                damaged += 1
        except OSError:
            continue  # gone meanwhile, or not ours to delete: the backend copes
    notes = []
    if damaged:
        notes.append(
            f"deleted {damaged} cached program(s) cut short or damaged, to be "
            "compiled again"
        )
    if partial:
        notes.append(f"deleted {partial} temporary file(s) a process left half written")
    return notes


def _left_over(path):
    """Whether the temporary file ``path`` has no writer any more."""
    match = _PARTIAL.search(path.name)
    if match is None or time.time() - path.stat().st_mtime > _STALE_SECONDS:
        return True
    return not _running(int(match.group(1)))


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _whole(path):
    """Whether the cached program ``path`` is whole, as far as can be told."""
    if path.suffix == ".pb":  # TensorFlow's
        return _whole_program(path.read_bytes())
    if path.name.endswith("-cache"):  # JAX's, compressed
        return _whole_stream(path)
    return True


def _whole_stream(path):
    """Whether a zlib stream (JAX compresses its programs so) ends where it should."""
    with path.open("rb") as f:
        data = f.read()
    if data[:1] != b"\x78":  # not zlib (JAX may use zstandard): not judged
        return True
    stream = zlib.decompressobj()
    try:
        while data and not stream.eof:
            stream.decompress(data, 2**20)  # a megabyte at a time, thrown away
            data = stream.unconsumed_tail
    except zlib.error:
        return False
    return stream.eof


def _whole_program(data):
    """Whether ``data`` holds a whole TensorFlow program (``XlaSerializedCacheEntry``).

    Every field of the protocol buffer must be complete and the compiled
    executable (field 3) present: a file cut short loses its last field
    or part of it.
    """
    at, fields = 0, set()
    while at < len(data):
        key, at = _varint(data, at)
        if key is None:
            return False
        kind = key & 7
        if kind == 0:
            _, at = _varint(data, at)
        elif kind == 2:
            length, at = _varint(data, at)
            at = None if length is None else at + length
        elif kind in (1, 5):
            at += 8 if kind == 1 else 4
        else:
            return False
        if at is None or at > len(data):
            return False
        fields.add(key >> 3)
    return 3 in fields


def _varint(data, at):
    """The varint at ``data[at:]`` and where it ends, or ``(None, None)``."""
    value = shift = 0
    while at is not None and at < len(data) and shift < 64:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at
    return None, None


def _read_only(directory):
    """Why programs should only be read from ``directory``, or None."""
    if not os.access(directory, os.W_OK):
        return "this process cannot write it, so programs are only read from it"
    free = shutil.disk_usage(directory).free
    if free < MIN_FREE_BYTES:
        return (
            f"its filesystem has {free / 2**20:.1f} MiB free, so programs are only "
            "read from it"
        )
    return None


def _remove_partial_files(directory, pid):
    """Delete the temporary files process ``pid`` left in ``directory``."""
    try:
        for path in directory.glob(f"*-{pid}-*.tmp"):
            path.unlink(missing_ok=True)
    except OSError:
        pass


def recover(error):
    """Whether ``error`` came from the compile cache; if so, tidy it and warn once.

    For the caller of a compiled program whose first call raised: True
    means the cache failed (a program could not be read or written, say on
    a disk that filled after :func:`enable`), its half-written files are
    deleted and a warning says so; the caller then trains without compiled
    programs. False means the error is the caller's to raise.
    """
    directory = _directory
    if directory is None:
        return False
    message = str(error)
    if (
        str(directory) not in message
        and "Read less bytes than requested" not in message
    ):
        return False
    _remove_partial_files(directory, os.getpid())
    notes = _tidy(directory)
    _warn(
        f"{ENV}={directory.parent.parent}: a compiled program could not be kept or read "
        f"there ({message.splitlines()[0][:300]})"
        + "".join(f"; {note}" for note in notes)
        + ". Training goes on without compiled programs in this process."
    )
    return True


def _warn(message):
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(message, UserWarning, stacklevel=3)
