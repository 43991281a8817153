"""What a model file may hold, read within those bounds, without Keras.

Every size is checked before the bytes behind it are inflated or allocated:
each zip member is read with a cap on its inflated size (never trusting the
size it declares), the JSON is checked for size and nesting before it is
parsed, tagged arrays are counted before they are made, the fitted
attributes are checked against the schema of their class, and the weights
are read only in the shapes and dtypes the declared network needs, up to
:data:`MAX_PARAMETERS` in all. A file that breaks any rule raises
``ValueError`` saying which; :mod:`skmnist.persistence` adds the file name.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import io
import json
import math
import re
import zipfile
import zlib
from numbers import Integral, Real

import numpy as np

from ._archive import (
    SHORT,
    ClosingZipFile,
    ModelFileError,
    listed,
    open_zip,
    read_member,
    short,
)

FORMAT = "skmnist-model"
FORMAT_VERSION = 1
META = "skmnist.json"
WEIGHTS = "weights.npz"

# The largest network a model file may hold: 2**26 weights (256 MiB as
# float32), some hundred times the widest network the examples train.
MAX_PARAMETERS = 2**26
MAX_JSON_BYTES = 16 * 2**20
MAX_JSON_DEPTH = 32
# Bytes that an array tagged in the JSON may take once made.
MAX_ARRAY_BYTES = 64 * 2**20
# The dtype a network's weights are made and used in.
NETWORK_DTYPE = np.dtype(np.float32)
# Room for the zip and .npy headers of each weight array.
_ARRAY_OVERHEAD = 4096

# The classes a model file may name, in the order a pipeline holds them.
FLATTENER = "ImageFlattener"
CLASSIFIERS = ("KerasMLPClassifier", "MLPClassifier")
CLASS_NAMES = (FLATTENER, *CLASSIFIERS)

# dtype kinds a tagged array may have: no objects but strings and ints.
_ARRAY_KINDS = "biufUO"
_MAX_STRING_CHARS = 1024


def read_archive(path):
    """The parsed JSON and the raw weights member of a model file.

    The weights member is returned as an open zip member, to be read by
    :func:`read_weights` once the JSON says how large it may be.
    """
    file = open(path, "rb")  # noqa: SIM115 (the archive closes it)
    try:
        archive = open_zip(file, "it", ClosingZipFile)
    except BaseException:
        file.close()
        raise
    members = sorted(archive.namelist())
    if members != sorted([META, WEIGHTS]):
        archive.close()
        raise ModelFileError(
            f"it holds {listed(members)}, expected exactly {[META, WEIGHTS]}"
        )
    try:
        meta = parse_json(read_member(archive, META, MAX_JSON_BYTES))
    except BaseException:
        archive.close()
        raise
    return meta, archive


def parse_json(data):
    """Parse the metadata, refusing JSON nested deeper than :data:`MAX_JSON_DEPTH`."""
    without_strings = re.sub(rb'"(?:[^"\\]|\\.)*"', b"", data)
    codes = np.frombuffer(without_strings, dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int8)
    steps -= np.isin(codes, (ord("]"), ord("}"))).astype(np.int8)
    depth = int(np.cumsum(steps, dtype=np.int32).max(initial=0))
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(
            f"its {META} is nested {depth} deep; a model file nests at most "
            f"{MAX_JSON_DEPTH} deep"
        )
    try:
        meta = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"its {META} is not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"its {META} does not describe an skmnist model")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        from . import __version__

        raise ModelFileError(
            f"it was written in model file format {short(version)} (by skmnist "
            f"{meta.get('skmnist_version')}), and this skmnist {__version__} reads "
            f"formats up to {FORMAT_VERSION}; upgrade skmnist to load it"
        )
    return meta


# -- tagged JSON values -------------------------------------------------------------


def decode(data):
    """A JSON value as saved by :func:`skmnist.save`: tuples, dicts, arrays tagged."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if set(data) == {"tuple"} and isinstance(data["tuple"], list):
        return tuple(decode(v) for v in data["tuple"])
    if set(data) == {"dict"} and isinstance(data["dict"], list):
        if not all(isinstance(item, list) and len(item) == 2 for item in data["dict"]):
            raise ValueError("a tagged dict holds something other than pairs")
        return {_hashable(decode(k)): decode(v) for k, v in data["dict"]}
    if set(data) == {"array", "dtype"}:
        return _array(data["array"], data["dtype"])
    if set(data) == {"ImageAugmentation"} and isinstance(
        data["ImageAugmentation"], dict
    ):
        from .augmentation import ImageAugmentation

        settings = data["ImageAugmentation"]
        if not all(isinstance(v, (int, float)) for v in settings.values()):
            raise ValueError("an ImageAugmentation's settings are not all numbers")
        try:
            return ImageAugmentation(**settings)
        except TypeError:
            raise ValueError(
                "an ImageAugmentation with settings it does not have: "
                f"{listed(sorted(settings))}"
            ) from None
    raise ValueError(f"unexpected JSON object with keys {listed(sorted(data))}")


def _hashable(key):
    if isinstance(key, (list, dict)):
        raise ValueError(f"a dict key is {short(key)}")
    return key


def _array(values, dtype):
    try:
        dtype = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ValueError(f"an array has the unknown dtype {short(dtype)}") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.fields or dtype.subdtype:
        raise ValueError(f"arrays of dtype {dtype} are not allowed")
    if dtype.kind == "U" and dtype.itemsize > 4 * _MAX_STRING_CHARS:
        raise ValueError(
            f"an array has dtype {dtype}; strings in a model file have at most "
            f"{_MAX_STRING_CHARS} characters"
        )
    items = np.array(values, dtype=object)  # one reference each: counted first
    if items.size * max(dtype.itemsize, 8) > MAX_ARRAY_BYTES:
        raise ValueError(
            f"an array of {items.size:,} values of dtype {dtype} is larger than "
            f"the {MAX_ARRAY_BYTES:,} bytes a model file's arrays may take"
        )
    if dtype.kind == "O":
        if not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) for v in items.flat
        ):
            raise ValueError("object arrays may hold only strings and ints")
        return items
    if dtype.kind == "U" and not all(isinstance(v, str) for v in items.flat):
        raise ValueError(f"an array of dtype {dtype} holds values that are not str")
    try:
        return items.astype(dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(
            f"an array's values do not fit its dtype {dtype} ({SHORT.repr(str(exc))[1:-1]})"
        ) from None


# -- the steps and their fitted state --------------------------------------------------


def check_steps(meta):
    """The decoded steps of the metadata, each checked against its class's schema.

    Returns a list of dicts with ``name``, ``class``, ``params`` and
    ``state``, and the weight shapes the classifier's network needs.
    """
    steps = meta.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError("it lists no steps")
    pipeline = meta.get("pipeline")
    if not isinstance(pipeline, bool):
        raise ValueError(
            f"its 'pipeline' entry is {short(pipeline)}, not true or false"
        )
    names = [step.get("class") if isinstance(step, dict) else None for step in steps]
    for name in names:
        if name not in CLASS_NAMES:
            raise ValueError(
                f"it names the class {short(name)}; model files hold only "
                f"{sorted(CLASS_NAMES)}"
            )
    in_order = names[-1] in CLASSIFIERS and set(names[:-1]) <= {FLATTENER}
    if not in_order or (not pipeline and len(steps) != 1):
        raise ValueError(
            f"it holds the steps {listed(names)}; a model file holds a classifier (one of "
            f"{list(CLASSIFIERS)}), or a pipeline of {FLATTENER} steps followed by one"
        )
    checked = []
    for entry in steps:
        step_name = entry.get("name")
        if pipeline and not isinstance(step_name, str):
            raise ValueError(
                f"a pipeline step is named {short(step_name)}, not a string"
            )
        params, state = (_decoded_mapping(entry, part) for part in ("params", "state"))
        refuse_mappings(entry["class"], params)
        if entry["class"] == FLATTENER:
            _flattener(params, state)
        else:
            _classifier(params, state, entry["class"])
        checked.append(
            {
                "name": step_name,
                "class": entry["class"],
                "params": params,
                "state": state,
            }
        )
    if pipeline and len({step["name"] for step in checked}) != len(checked):
        raise ValueError("two of its pipeline steps have the same name")
    widths = {step["state"]["n_features_in_"] for step in checked}
    if len(widths) != 1:
        raise ValueError(
            f"its steps take different numbers of features: {listed(sorted(widths))}"
        )
    return checked, weight_shapes(checked[-1])


def _decoded_mapping(entry, part):
    data = entry.get(part)
    if not isinstance(data, dict):
        raise ValueError(
            f"a step's {short(part)} entry is {short(data)}, not a JSON object"
        )
    return {key: decode(value) for key, value in data.items()}


def refuse_mappings(cls_name, params):
    """Refuse mappings in parameters: Keras would deserialize them as objects."""
    for name, value in params.items():
        if name != "class_weight" and _contains_dict(value):
            raise TypeError(
                f"{cls_name}.{name} = {short(value)}: a model file stores mappings only in "
                "class_weight; Keras would read one here as an object to build."
            )


def _contains_dict(value):
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(map(_contains_dict, value))


def _attributes(cls_name, state, required, optional=()):
    unknown = sorted(set(state) - set(required) - set(optional))
    if unknown:
        raise ValueError(f"{cls_name} has no fitted attribute {short(unknown[0])}")
    missing = sorted(set(required) - set(state))
    if missing:
        raise ValueError(f"{cls_name} lacks its fitted attribute {short(missing[0])}")


def _int(where, value, low=0, high=None):
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise ValueError(f"{where} is {short(value)}, not an int")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{where} is {short(value)}, not {bound}")
    return int(value)


def _number(where, value, *, finite=False, allow_none=False):
    if value is None and allow_none:
        return
    if not isinstance(value, Real) or isinstance(value, bool):
        raise ValueError(f"{where} is {short(value)}, not a number")
    if finite and not math.isfinite(value):
        raise ValueError(f"{where} is {value}, not a finite number")


def _numbers(where, values, allow_none=False):
    if values is None and allow_none:
        return
    if not isinstance(values, list):
        raise ValueError(f"{where} is {short(values)}, not a list of numbers")
    for value in values:
        _number(where, value)


def _feature_names(cls_name, state):
    names = state.get("feature_names_in_")
    if names is None:
        return
    if not (
        isinstance(names, np.ndarray)
        and names.ndim == 1
        and len(names) == state["n_features_in_"]
        and all(isinstance(n, str) for n in names)
    ):
        raise ValueError(
            f"{cls_name}.feature_names_in_ is not {state['n_features_in_']} strings"
        )


def _flattener(params, state):
    name = FLATTENER
    _attributes(
        name,
        state,
        ("n_features_in_", "image_shape_", "max_value_"),
        ("feature_names_in_",),
    )
    _attributes(name, params, (), ("max_value",))
    n_features = _int(f"{name}.n_features_in_", state["n_features_in_"], 1)
    shape = state["image_shape_"]
    if not (
        isinstance(shape, tuple)
        and len(shape) in (1, 2)
        and all(isinstance(d, Integral) and not isinstance(d, bool) for d in shape)
        and all(d >= 1 for d in shape)
        and math.prod(shape) == n_features
    ):
        raise ValueError(
            f"{name}.image_shape_ is {short(shape)}; it must be one or two positive ints "
            f"whose product is n_features_in_ = {n_features}"
        )
    value = state["max_value_"]
    _number(f"{name}.max_value_", value, finite=True)
    if value <= 0:
        raise ValueError(f"{name}.max_value_ is {value}, not a positive number")
    # transform divides by it in float32
    with np.errstate(over="ignore", under="ignore"):
        as_float32 = np.float32(value)
    if not (np.isfinite(as_float32) and as_float32 > 0):
        raise ValueError(
            f"{name}.max_value_ is {value}, which is {as_float32} in float32, the "
            "dtype the images are scaled in; it must be a positive float32"
        )
    _feature_names(name, state)


_CLASSIFIER_STATE = (
    "n_features_in_",
    "target_type_",
    "classes_",
    "n_classes_",
    "n_outputs_",
    "n_outputs_expected_",
    "n_iter_",
    "t_",
    "loss_",
    "history_",
    "_n_fit_samples",
)

# The per-epoch records, which a network trained by L-BFGS does not have.
_STOCHASTIC_STATE = (
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
)


def _classifier(params, state, name):
    _attributes(
        name, state, _CLASSIFIER_STATE, ("feature_names_in_", *_STOCHASTIC_STATE)
    )
    _int(f"{name}.n_features_in_", state["n_features_in_"], 1)
    _feature_names(name, state)
    if state["target_type_"] not in ("binary", "multiclass"):
        raise ValueError(f"{name}.target_type_ is {short(state['target_type_'])}")
    classes = state["classes_"]
    if not (
        isinstance(classes, np.ndarray)
        and classes.ndim == 1
        and classes.dtype.kind in "biuUO"
        and len(classes) >= 2
        and len(np.unique(classes)) == len(classes)
    ):
        raise ValueError(f"{name}.classes_ is not a 1-D array of 2 or more labels")
    n_classes = len(classes)
    for key in ("n_classes_", "n_outputs_"):
        if _int(f"{name}.{key}", state[key]) != n_classes:
            raise ValueError(
                f"{name}.{key} is {state[key]}, but classes_ holds {n_classes} classes"
            )
    _int(f"{name}.n_outputs_expected_", state["n_outputs_expected_"], 1, 1)
    _int(f"{name}.n_iter_", state["n_iter_"])
    _int(f"{name}.t_", state["t_"])
    _int(f"{name}._n_fit_samples", state["_n_fit_samples"], 1)
    records = [key for key in _STOCHASTIC_STATE if key in state]
    if records and len(records) < len(_STOCHASTIC_STATE):
        missing = sorted(set(_STOCHASTIC_STATE) - set(records))
        raise ValueError(f"{name} lacks its fitted attribute {short(missing[0])}")
    for key in ("loss_", "best_loss_", "best_validation_score_"):
        _number(f"{name}.{key}", state.get(key), allow_none=True)
    _numbers(f"{name}.loss_curve_", state.get("loss_curve_", []))
    _numbers(f"{name}.validation_scores_", state.get("validation_scores_"), True)
    history = state["history_"]
    if not isinstance(history, dict) or not all(isinstance(k, str) for k in history):
        raise ValueError(f"{name}.history_ is not a mapping of names to lists")
    for key, values in history.items():
        _numbers(f"{name}.history_[{short(key)}]", values)
    sizes = params.get("hidden_layer_sizes", (32, 64))
    sizes = [sizes] if isinstance(sizes, Integral) else sizes
    if not isinstance(sizes, (list, tuple)):
        raise ValueError(f"{name}.hidden_layer_sizes is {short(sizes)}, not a sequence")
    for size in sizes:
        _int(f"{name}.hidden_layer_sizes", size, 1, MAX_PARAMETERS)


def weight_shapes(step):
    """The shapes of the weights of the classifier ``step`` describes."""
    sizes = step["params"].get("hidden_layer_sizes", (32, 64))
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    widths = [step["state"]["n_features_in_"], *sizes, step["state"]["n_classes_"]]
    shapes = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        shapes += [(n_in, n_out), (n_out,)]
    n_parameters = sum(math.prod(shape) for shape in shapes)
    if n_parameters > MAX_PARAMETERS:
        raise ValueError(
            f"it declares a network of {n_parameters:,} weights (layers "
            f"{listed(widths)}); a model file holds at most {MAX_PARAMETERS:,}"
        )
    return shapes


# -- the weights -------------------------------------------------------------------


def read_weights(archive, shapes):
    """The weight arrays, each read only in its expected shape and a float dtype."""
    limit = sum(8 * math.prod(s) + _ARRAY_OVERHEAD for s in shapes) + _ARRAY_OVERHEAD
    data = read_member(archive, WEIGHTS, limit)
    inner = open_zip(io.BytesIO(data), f"its {WEIGHTS}")
    with inner:
        expected = [f"arr_{i}.npy" for i in range(len(shapes))]
        if sorted(inner.namelist()) != sorted(expected):
            raise ModelFileError(
                f"its {WEIGHTS} holds {len(inner.namelist())} array(s); the network "
                f"its parameters describe has {len(shapes)}"
            )
        return [
            _read_array(inner, name, shape)
            for name, shape in zip(expected, shapes, strict=True)
        ]


def _read_array(inner, name, shape):
    where = f"{WEIGHTS}/{name}"
    try:
        with inner.open(name) as f:
            version = np.lib.format.read_magic(f)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise ValueError(f"an unknown .npy version {version}")
            stored_shape, fortran_order, dtype = read_header(f, max_header_size=10000)
            if dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.fields:
                raise ValueError(f"dtype {dtype}, where weights are real floats")
            if tuple(stored_shape) != tuple(shape):
                raise ValueError(
                    f"shape {tuple(stored_shape)}, where the network needs {shape}"
                )
            n_bytes = math.prod(shape) * dtype.itemsize
            data = f.read(n_bytes + 1)
    except (ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ModelFileError(f"its {where} has {exc}") from None
    if len(data) != n_bytes:
        raise ModelFileError(
            f"its {where} holds {len(data):,} bytes of data, not the {n_bytes:,} its "
            "header declares"
        )
    order = "F" if fortran_order else "C"
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    if not np.isfinite(array).all():
        raise ModelFileError(f"its {where} holds weights that are not finite")
    with np.errstate(over="ignore"):
        array = array.astype(NETWORK_DTYPE)
    if not np.isfinite(array).all():
        raise ModelFileError(
            f"its {where} holds weights that overflow {NETWORK_DTYPE}, the dtype "
            "the network computes in"
        )
    return array


def check_model(meta, weights):
    """Refuse to save what :func:`read_archive` and its checks would refuse.

    ``meta`` is the JSON data of a model file, ``weights`` the network's
    arrays: a file that would not load is never written.
    """
    if not all(np.isfinite(np.asarray(w, dtype=NETWORK_DTYPE)).all() for w in weights):
        classifier = meta["steps"][-1]["class"]
        raise ValueError(
            f"This {classifier} has non-finite parameter weights (NaN or "
            "infinity) and cannot be saved: a model file holds only finite "
            "weights. Its fit diverged; the input data may contain large values "
            "and need to be preprocessed, or learning_rate_init may be too large."
        )
    try:
        _, shapes = check_steps(meta)
    except ValueError as exc:
        raise ValueError(
            f"This model cannot be saved: skmnist.load would refuse the file, as {exc}"
        ) from None
    if [tuple(np.shape(w)) for w in weights] != shapes:
        raise ValueError(
            f"This model cannot be saved: its weights have the shapes "
            f"{listed([np.shape(w) for w in weights])}, where its parameters "
            f"describe a network of {listed(shapes)}"
        )
