"""The backend's process-wide settings, made before its first operation.

Threads and the compile cache: :func:`prepare_backend` sizes TensorFlow's
thread pools by the process's thread budget and turns on the persistent
compile cache (:mod:`skmnist._compile_cache`). The estimators call it before
they build a network, the console script before it starts Keras.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import sys

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
    budget = os.environ.get("SKMNIST_NUM_THREADS") or _dask_worker_threads()
    budget = budget or os.environ.get("OMP_NUM_THREADS")
    if not budget or keras.backend.backend() != "tensorflow":
        return
    try:
        n = max(int(budget), 1)
    except ValueError:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(n)
    except RuntimeError:
        pass  # TensorFlow already runs with its pools: too late to change them


def _dask_worker_threads():
    """The thread count of the Dask worker this process runs, if it is one."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker().state.nthreads
    except ValueError:  # not in a worker
        return None
