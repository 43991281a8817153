"""Model files that load without running code.

A model file is a zip archive of exactly two members:

- ``skmnist.json``: the format name and version, the skmnist version that
  wrote it, and for each step of the model its name, its class
  (``ImageFlattener``, ``KerasMLPClassifier`` or ``MLPClassifier``), its
  parameters and its fitted attributes, as JSON;
- ``weights.npz``: the network's weights as plain NumPy arrays.

An estimator takes part through one pair of methods:
``__skmnist_getstate__()`` returns its fitted state as a dict of plain
values and its arrays as a list (the network's weights; empty for a
transformer), and ``__skmnist_setstate__(state, arrays)`` makes an
unfitted estimator, its parameters already set, the fitted one they
describe, or raises ``ValueError``.

Loading happens in two phases. :func:`read_model_file` reads the file within
bounds and checks it, without importing Keras: each member's inflated size,
the JSON's size and nesting, every fitted attribute against its class's
schema, the order of the steps, and the weights in the shapes and float
dtypes the declared network needs (see :mod:`skmnist._model_format`).
:meth:`ModelFile.build` then validates the parameters as ``fit`` does,
builds the network and hands each estimator its fitted state. :func:`load`
does both. Nothing
is unpickled (``allow_pickle=False``) and no Keras configuration is
deserialized, so a crafted file can at worst fail to load. This is stricter
than a ``.keras`` file in Keras' safe mode, whose protection some Keras
releases we support (3.8) let a crafted configuration bypass.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from . import __version__, _atomic, _model_format
from ._model_format import ModelFileError
from .augmentation import ImageAugmentation

__all__ = ["ModelFile", "ModelFileError", "load", "read_model_file", "save"]


def _classes():
    """The classes a model file may name, by name (importing Keras)."""
    from .classifier import KerasMLPClassifier, MLPClassifier
    from .preprocessing import ImageFlattener

    return {
        "ImageFlattener": ImageFlattener,
        "KerasMLPClassifier": KerasMLPClassifier,
        "MLPClassifier": MLPClassifier,
    }


# -- values <-> JSON -------------------------------------------------------------


def _plain_array(value):
    if value.dtype.kind in "biufU":
        return True
    return value.dtype.kind == "O" and all(
        isinstance(v, (str, int)) and not isinstance(v, bool) for v in value.flat
    )


def _encode(value, where):
    """``value`` as JSON data; tuples, dicts and arrays are tagged to come back."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    if isinstance(value, (tuple, list)):
        items = [_encode(v, where) for v in value]
        return {"tuple": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {
            "dict": [[_encode(k, where), _encode(v, where)] for k, v in value.items()]
        }
    if isinstance(value, ImageAugmentation):
        # Its settings are numbers: a model file stores the setting, not the draws.
        settings = value.get_params(deep=False)
        return {
            "ImageAugmentation": {k: _encode(v, where) for k, v in settings.items()}
        }
    if isinstance(value, np.ndarray) and _plain_array(value):
        return {"array": value.tolist(), "dtype": value.dtype.str}
    raise TypeError(
        f"Cannot save {where} = {value!r}: a model file stores numbers, strings, "
        "booleans, None, lists, tuples, dicts and arrays of them, and "
        "ImageAugmentation settings. Set it to one "
        "of these (for example callbacks=None) before saving."
    )


# -- save ----------------------------------------------------------------------


def _steps(estimator):
    """``[(name, step)]`` of a pipeline, or ``[(None, estimator)]``."""
    classes = _classes()
    if isinstance(estimator, Pipeline):
        steps = list(estimator.steps)
    else:
        steps = [(None, estimator)]
    for name, step in steps:
        if type(step) not in classes.values():
            raise TypeError(
                "skmnist.save stores skmnist's classifiers and Pipelines of "
                f"ImageFlattener steps and one of them; got {step!r}"
                + (f" as step {name!r}." if name else ".")
                + " Use joblib.dump for other estimators."
            )
    if type(steps[-1][1]) is classes["ImageFlattener"]:
        raise TypeError(
            "skmnist.save needs a KerasMLPClassifier or an MLPClassifier as the "
            f"(last step of the) estimator; got {steps[-1][1]!r}."
        )
    return steps


def save(estimator, path):
    """Save a fitted skmnist model to a file that loads without running code.

    The file is written atomically: a temporary file in the same directory is
    flushed to disk and renamed over `path` once complete, so `path` is
    either the old file or the new one, never a partial one. Otherwise it is
    written as ``open(path, "wb")`` would write it: an existing file keeps its
    mode, a new one gets the umask's, and a symbolic link is written through
    to its target.

    Parameters
    ----------
    estimator : KerasMLPClassifier or Pipeline
        A fitted :class:`~skmnist.KerasMLPClassifier`, or a fitted pipeline of
        :class:`~skmnist.ImageFlattener` and :class:`~skmnist.KerasMLPClassifier`
        steps such as the one :func:`~skmnist.make_mnist_pipeline` makes. Its
        parameters must be plain values (numbers, strings, tuples, ...):
        callbacks and optimizer instances cannot be stored.

    path : str or path-like
        Where to write the model file (by convention ``*.skmnist``).

    Returns
    -------
    path : pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If the estimator is not an skmnist model, or a parameter cannot be
        stored.
    OSError
        If `path` cannot be written; the message names `path`, and any file
        already there is left as it was.
    sklearn.exceptions.NotFittedError
        If the estimator is not fitted.

    See Also
    --------
    load : Load a file written by this function.

    Notes
    -----
    ``pickle`` and ``joblib`` files can run arbitrary code when they are
    loaded: load them only from sources you trust. Files written by this
    function hold only JSON and plain arrays.

    Examples
    --------
    >>> import skmnist
    >>> pipe = skmnist.make_mnist_pipeline().fit(X, y)  # doctest: +SKIP
    >>> skmnist.save(pipe, "mnist.skmnist")  # doctest: +SKIP
    >>> skmnist.load("mnist.skmnist").predict(X[:3])  # doctest: +SKIP
    array([5, 0, 4])
    """
    steps = _steps(estimator)
    meta_steps = []
    for name, step in steps:
        check_is_fitted(step)
        where = f"{type(step).__name__}.{{}}"
        params = step.get_params(deep=False)
        _model_format.refuse_mappings(type(step).__name__, params)
        state, weights = step.__skmnist_getstate__()  # the last step's are kept
        meta_steps.append(
            {
                "name": name,
                "class": type(step).__name__,
                "params": {k: _encode(v, where.format(k)) for k, v in params.items()},
                "state": {k: _encode(v, where.format(k)) for k, v in state.items()},
            }
        )
    meta = {
        "format": _model_format.FORMAT,
        "format_version": _model_format.FORMAT_VERSION,
        "skmnist_version": __version__,
        "pipeline": isinstance(estimator, Pipeline),
        "steps": meta_steps,
    }
    _model_format.check_model(meta, weights)  # never write what load refuses
    arrays = io.BytesIO()
    np.savez(arrays, *weights)

    with _atomic.atomic_write(path) as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_model_format.META, json.dumps(meta, indent=1))
            archive.writestr(_model_format.WEIGHTS, arrays.getvalue())
    return Path(path)


# -- load ----------------------------------------------------------------------


class ModelFile:
    """A model file, read and checked, whose estimator is not built yet.

    :func:`read_model_file` makes it without importing Keras, so a file that
    is not a model file fails in a fraction of a second; :meth:`build` then
    makes the estimator. :func:`load` does both.

    Attributes
    ----------
    path : pathlib.Path
        The file read.
    steps : list of dict
        For each step, in order: ``name`` (None for a lone estimator),
        ``class`` (the class name), ``params`` and ``state`` (its parameters
        and fitted attributes, decoded).
    pipeline : bool
        Whether the file holds a :class:`~sklearn.pipeline.Pipeline`.
    weights : list of ndarray
        The network's weights, in the order of ``keras.Model.get_weights``.
    """

    def __init__(self, path, steps, pipeline, weights):
        self.path = path
        self.steps = steps
        self.pipeline = pipeline
        self.weights = weights

    def __repr__(self):
        classes = ", ".join(step["class"] for step in self.steps)
        return f"ModelFile({str(self.path)!r}, steps=[{classes}])"

    def build(self):
        """Make the estimator the file describes.

        Returns
        -------
        estimator : KerasMLPClassifier or Pipeline
            The fitted model, predicting exactly as the one saved.

        Raises
        ------
        ValueError
            If the parameters, fitted attributes and weights do not describe
            a model this version can build; the message names the file.
        """
        classes = _classes()
        built = []
        with _naming(self.path):
            for i, entry in enumerate(self.steps):
                step = classes[entry["class"]]().set_params(**entry["params"])
                last = i == len(self.steps) - 1
                step.__skmnist_setstate__(entry["state"], self.weights if last else [])
                built.append((entry["name"], step))
        return Pipeline(built) if self.pipeline else built[0][1]


def read_model_file(path):
    """Read and check a model file written by :func:`save`, without Keras.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`skmnist.save`.

    Returns
    -------
    model_file : ModelFile
        What the file holds; ``model_file.build()`` makes the estimator.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not a model file this version can load. The message
        names the file and says what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}.")
    with _naming(path):
        meta, archive = _model_format.read_archive(path)
        with archive:
            steps, shapes = _model_format.check_steps(meta)
            weights = _model_format.read_weights(archive, shapes)
        return ModelFile(path, steps, meta["pipeline"], weights)


def load(path):
    """Load a model written by :func:`save`, without running code from it.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`skmnist.save`.

    Returns
    -------
    estimator : KerasMLPClassifier or Pipeline
        The fitted model, predicting exactly as the one saved.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If `path` is not a model file this version can load: a pickle, a
        truncated file, an archive with other members, or a file written by a
        newer skmnist. The message says which.

    See Also
    --------
    save : Write a model file.
    read_model_file : Read and check a file without building the model.
    """
    return read_model_file(path).build()


@contextlib.contextmanager
def _naming(path):
    """Turn a problem with the file into a ModelFileError naming it."""
    try:
        yield
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, KeyError):
            exc = f"it lacks the entry {exc}"
        raise ModelFileError(
            f"Cannot load {path} as an skmnist model: {exc}."
        ) from None
