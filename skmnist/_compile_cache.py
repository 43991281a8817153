"""Compiled programs kept on disk for later processes: opt in with an environment variable.

A process's first fit of a network compiles its epoch program, about half a
second that every new process pays again: each run of a script or of the
``skmnist`` command, each of joblib's or Dask's workers. With
``SKMNIST_COMPILE_CACHE`` naming a directory, the backend's own persistent
cache (TensorFlow's XLA cache, JAX's compilation cache) keeps the programs
there, and a later process training the same network loads its program
instead of compiling it.

A cached program is machine code the process runs, so the directory must be
one only its user can write: one that others can write is refused with a
warning, and training goes on without it. Programs live in a subdirectory
per backend release, so an upgrade never loads an older release's programs.
The backend reads the setting before its first compile: a process that has
already compiled (say, with its own Keras model) keeps running without it.
TensorFlow before 2.21 is refused with a warning: it gave the same program a
new key in every process.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import stat
import warnings
from pathlib import Path

import keras

ENV = "SKMNIST_COMPILE_CACHE"

_enabled = False


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
    setting = os.environ.get(ENV)
    if not setting:
        return None
    root = Path(setting).expanduser().absolute()
    if not _private(root, root):
        return None
    backend = keras.backend.backend()
    release = _release(backend)
    if release is None:
        return None
    directory = root / release
    if not _private(directory, root):
        return None
    if backend == "tensorflow":
        flags = os.environ.get("TF_XLA_FLAGS", "")
        if "tf_xla_persistent_cache_directory" in flags:
            return None  # the user's own setting stands
        option = f"--tf_xla_persistent_cache_directory={directory}"
        os.environ["TF_XLA_FLAGS"] = f"{flags} {option}".strip()
    else:
        import jax

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
    return f"tensorflow-{tf.__version__}"


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
