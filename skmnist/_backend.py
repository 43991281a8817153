"""The backend's process-wide settings, made before its first operation.

Threads and the compile cache: :func:`prepare_backend` sizes TensorFlow's
thread pools by the process's thread budget and turns on the persistent
compile cache (:mod:`skmnist._compile_cache`). The estimators call it before
they build a network, the console script before it starts Keras.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import re
import sys
import warnings

import keras

from . import _compile_cache
from ._startup_logs import startup_logs_filtered

_threads_limited = False
_started = False


def prepare_backend():
    """Settings the backend reads before its first operation: threads, compile cache.

    The estimators call this before they build a network, the console
    script before it starts Keras; a call that comes later changes nothing.
    """
    global _started
    if _started:
        _compile_cache.enable()
        return
    _started = True
    with startup_logs_filtered():
        _limit_threads()
        _compile_cache.enable()
        # The backend finds its devices on its first operation, and
        # TensorFlow's XLA starts on its first compiled function: each
        # writes its start-up notes then.
        keras.ops.convert_to_tensor(0.0)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.function(lambda x: x + 1, jit_compile=True)(tf.constant(0.0))


def _limit_threads():
    """Bound TensorFlow's thread pools by the process's thread budget, once.

    TensorFlow ignores threadpoolctl, so a joblib search with ``n_jobs=2`` on
    two cores would run two processes with two-thread pools each. The budget
    is ``SKMNIST_NUM_THREADS`` if set; else, in a Dask worker, the worker's
    thread count; else ``OMP_NUM_THREADS``, which joblib's worker processes
    carry (cores divided by workers).
    """
    global _threads_limited
    if _threads_limited:
        return
    _threads_limited = True
    n = _thread_budget()
    if n is None or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:
        pass  # TensorFlow already runs with its pools: too late to change them


def _thread_budget():
    """The thread budget the environment gives, bounded by the CPUs; None if none.

    A variable that is unset or empty gives nothing; one that is not a
    positive whole number is ignored with a warning, and one larger than the
    CPUs this process may run on is bounded to them with a warning (a pool
    of 100,000 threads would exhaust the process).
    """
    for name in ("SKMNIST_NUM_THREADS", None, "OMP_NUM_THREADS"):
        if name is None:
            n = _dask_worker_threads()
            if n:
                return n
            continue
        raw = os.environ.get(name, "").strip()
        if not raw:
            continue
        cpus = available_cpus()
        digits = raw.removeprefix("+").lstrip("0")
        if not re.fullmatch(r"\+?[0-9]+", raw) or not digits:
            warnings.warn(
                f"{name}={_shown(raw)} is not a positive whole number of threads; "
                "ignoring it.",
                stacklevel=4,
            )
            continue
        # A digit string too long for int() is too many threads all the same.
        n = int(digits) if len(digits) < 20 else cpus + 1
        if n > cpus:
            warnings.warn(
                f"{name}={_shown(raw)} is more threads than the {cpus} CPUs this "
                f"process may run on; using {cpus}.",
                stacklevel=4,
            )
            return cpus
        return n
    return None


def available_cpus():
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _shown(raw):
    """An environment value as a warning shows it: quoted, escaped, cut short."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "...")


def _dask_worker_threads():
    """The thread count of the Dask worker this process runs, if it is one."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker().state.nthreads
    except ValueError:  # not in a worker
        return None
