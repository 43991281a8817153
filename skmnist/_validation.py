"""A short way past scikit-learn's input checks for arrays they would pass as they are.

``check_array`` and ``validate_data`` cost tens of microseconds a call,
whatever the size of the input, most of it spent asking whether the input is
a dataframe: for one image through the pipeline, more than the network. After
fit, a plain NumPy array of finite numbers, of a shape fit saw, from an
estimator fitted without feature names, is one they return unchanged and say
nothing about. Only such an array skips them; anything else goes through
scikit-learn, which accepts it or raises its own error.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def passes_unchanged(estimator, X, sample_shapes, *, finite=True):
    """Whether sklearn's checks after fit would return `X` as it is, silently.

    Parameters
    ----------
    estimator : fitted estimator
        One fitted on named features passes nothing here: a plain array
        then earns scikit-learn's warning.
    X : object
        The input of ``predict``, ``transform`` or ``score``.
    sample_shapes : tuple of tuple of int
        The shapes of one sample the estimator accepts.
    finite : bool, default=True
        Whether to check that `X` is finite. False only for a caller that
        checks it itself, more cheaply, before it trusts what it computed.

    Returns
    -------
    bool
    """
    return (
        type(X) is np.ndarray
        and (X.dtype.kind in "ui" or X.dtype in (np.float32, np.float64))
        and X.ndim >= 2
        and len(X) > 0
        and X.shape[1:] in sample_shapes
        and not hasattr(estimator, "feature_names_in_")
        and (not finite or X.dtype.kind != "f" or _all_finite(X))
    )


def _all_finite(a):
    """Whether every number of the float array ``a`` is finite, without a warning.

    One sum, which is finite only if they all are (or NaN, when infinities
    of both signs meet); a false alarm only where the sum overflows.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.isfinite(a.sum()))
