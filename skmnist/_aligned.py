"""Arrays whose data TensorFlow can read in place, without a copy.

TensorFlow takes a NumPy array over DLPack as it is when its data starts on
a 64-byte boundary; NumPy aligns large arrays to 16 bytes only. The
transformer writes its rows into such an array, so the training set exists
once as float32, not twice.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

ALIGNMENT = 64


def empty(shape, dtype):
    """An uninitialised C-ordered array whose data is `ALIGNMENT`-aligned."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    buffer = np.empty(size + ALIGNMENT, np.uint8)
    offset = -buffer.ctypes.data % ALIGNMENT
    return buffer[offset : offset + size].view(dtype).reshape(shape)


def aligned(a, dtype):
    """``a`` as an aligned, writeable, C-ordered array of ``dtype``; a copy only if needed."""
    a = np.asarray(a)
    if (
        a.dtype == dtype
        and a.flags.c_contiguous
        and a.flags.writeable
        and a.ctypes.data % ALIGNMENT == 0
    ):
        return a
    out = empty(a.shape, dtype)
    out[...] = a
    return out
