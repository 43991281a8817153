"""Export a fitted pipeline or classifier as an ONNX model (the ``onnx`` extra).

The graph is written here with :mod:`onnx.helper`, node by node, from what
the estimator learned: the flattener's image shape and pixel scale, and the
classifier's dense layers (its ``_forward_layers()``, the weights its NumPy
forward pass uses). It computes what ``predict_proba`` computes, in the
same order and precision: pixels cast to float32 and divided by the pixel
scale, the dense layers in float32, the output layer's bias and activation
in float64. Running it needs onnxruntime (or any ONNX runtime) and NumPy,
but neither Keras, TensorFlow nor skmnist.

This module imports neither Keras nor onnx when it is imported; onnx is
imported by :func:`to_onnx`.
"""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

import numpy as np
from sklearn.exceptions import NotFittedError

from ._optional import import_onnx

__all__ = ["to_onnx"]

# The ONNX operator set and IR version the graph is written for. Opset 17
# (IR 8) is read by every onnxruntime since 1.12: a newer onnx package would
# otherwise stamp its own, newer IR version on the model, which older
# runtimes refuse.
OPSET = 17
IR_VERSION = 8

# Input element types to_onnx accepts, by NumPy name.
INPUT_DTYPES = ("uint8", "uint16", "int32", "int64", "float32", "float64")

_ACTIVATION_OPS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}


def _steps(estimator):
    """``(flattener or None, classifier)`` of a pipeline or a bare classifier."""
    if hasattr(estimator, "steps"):
        steps = [
            step
            for _, step in estimator.steps
            if step is not None
            and not (isinstance(step, str) and step == "passthrough")
        ]
    else:
        steps = [estimator]
    from .preprocessing import ImageFlattener

    flattener = None
    if len(steps) == 2 and isinstance(steps[0], ImageFlattener):
        flattener, steps = steps[0], steps[1:]
    # The classifiers' engine is loaded once an instance exists: when it is
    # not, the estimator is none of ours, and importing it (and Keras) to say
    # so would cost seconds.
    engine = sys.modules.get("skmnist._estimator")
    if len(steps) != 1 or engine is None or not isinstance(steps[0], engine._BaseMLP):
        names = [type(step).__name__ for step in steps]
        if flattener is not None:
            names.insert(0, "ImageFlattener")
        raise TypeError(
            "to_onnx exports a fitted skmnist.KerasMLPClassifier or "
            "skmnist.MLPClassifier, alone or in a Pipeline behind an "
            f"ImageFlattener (as make_mnist_pipeline builds); got "
            f"{type(estimator).__name__}"
            + (f" with steps {names}" if hasattr(estimator, "steps") else "")
            + ". Export the other steps with their own converters (skl2onnx), "
            "or leave them out of the pipeline."
        )
    return flattener, steps[0]


def _check_fitted(flattener, classifier):
    if flattener is not None and not hasattr(flattener, "max_value_"):
        raise NotFittedError(
            "This ImageFlattener instance is not fitted yet: fit the pipeline "
            "before exporting it."
        )
    if not getattr(classifier, "initialized_", False):
        raise NotFittedError(
            f"This {type(classifier).__name__} instance is not fitted yet: fit it "
            "before exporting it."
        )
    stack = classifier._forward_layers()
    if not stack or stack[-1][2] != "softmax":
        activations = sorted({"linear", *_ACTIVATION_OPS})
        raise ValueError(
            f"to_onnx cannot export this {type(classifier).__name__}: its network "
            "is not a chain of Dense layers with activations among "
            f"{activations} and a softmax output (activation="
            f"{classifier.activation!r}). Refit with one of those activations "
            "(relu, tanh, logistic or identity)."
        )


def _default_dtype(flattener):
    """uint8 for images scaled by 255 (8-bit, as MNIST is), else float32."""
    if flattener is not None and flattener.max_value_ == 255:
        return "uint8"
    return "float32"


def _label_tensor(onnx, classes):
    """``classes_`` as a constant tensor of the matching ONNX element type."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "US" or classes.dtype == object:
        values = [str(c) for c in classes]
        if classes.dtype == object and not all(isinstance(c, str) for c in classes):
            raise TypeError(
                f"to_onnx exports class labels that are ints, floats, bools or "
                f"strings; classes_ holds {classes.dtype} values "
                f"({[type(c).__name__ for c in classes][:3]}). Refit on labels of "
                "one of those types."
            )
        return onnx.helper.make_tensor(
            "classes",
            onnx.TensorProto.STRING,
            [len(values)],
            [v.encode() for v in values],
        )
    if classes.dtype.kind == "b":
        array = classes.astype(bool)
    elif classes.dtype.kind in "iu":
        array = classes.astype(np.int64)
    elif classes.dtype.kind == "f":
        array = classes.astype(np.float64)
    else:
        raise TypeError(
            f"to_onnx exports class labels that are ints, floats, bools or strings; "
            f"classes_ has dtype {classes.dtype}."
        )
    return onnx.numpy_helper.from_array(array, "classes")


def to_onnx(estimator, *, input_dtype=None):
    """A fitted pipeline or classifier as an ONNX model.

    The model takes what the fitted estimator takes and answers what it
    answers: images (for a pipeline) or feature rows (for a classifier) in,
    class labels and probabilities out, within 1e-5 of ``predict_proba``.
    It runs in onnxruntime without Keras, TensorFlow or skmnist.

    Parameters
    ----------
    estimator : Pipeline, KerasMLPClassifier or MLPClassifier
        Fitted. A :class:`~sklearn.pipeline.Pipeline` of an
        :class:`~skmnist.ImageFlattener` followed by a classifier (as
        :func:`~skmnist.make_mnist_pipeline` builds it), or a classifier on
        its own. The classifier's network must be the dense stack skmnist
        builds, with hidden activations ``relu``, ``tanh``, ``logistic``
        (``sigmoid``) or ``identity`` (``linear``).

    input_dtype : {"uint8", "uint16", "int32", "int64", "float32", \
"float64"}, default=None
        Element type of the model's input tensor. ``None`` chooses
        ``"uint8"`` for a pipeline whose flattener scales by 255 (8-bit
        images such as MNIST's), else ``"float32"``. Whatever the type,
        pixels are cast to float32 first, as the flattener and the
        classifier do.

    Returns
    -------
    model : onnx.ModelProto
        One input and two outputs, each with a dynamic batch axis ``N``:

        - ``images`` (pipeline) or ``features`` (classifier): shape
          ``(N, *image_shape_)`` of the fitted flattener, e.g.
          ``(N, 28, 28)``, or ``(N, n_features_in_)``;
        - ``label``: shape ``(N,)``, the values of ``classes_`` (int64,
          float64, bool or string tensor, by the labels' type), as
          ``predict`` gives them;
        - ``probabilities``: float32, shape ``(N, n_classes)``, columns in
          the order of ``classes_``, as ``predict_proba`` gives them.

        Save it with ``onnx.save(model, path)``.

    Raises
    ------
    ImportError
        When onnx is not installed (``pip install "skmnist[onnx]"``).
    TypeError
        For an estimator or pipeline step other than those above.
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted.
    ValueError
        For a network that is not a dense stack of the supported
        activations, or an `input_dtype` not in the list.

    Notes
    -----
    The graph flattens and scales, but does not check: pixels out of range
    (negative, or above the flattener's ``max_value_``), NaN and images of
    another shape, which the pipeline refuses, give meaningless
    probabilities or a runtime error. Images fitted with a trailing channel
    axis of 1, ``(n, h, w, 1)``, are passed without it (``images[..., 0]``).
    Hidden layers run in float32 and the output layer's bias and softmax
    in float64, as ``predict_proba`` does; the probabilities are cast to
    float32 at the end and the label is chosen before that cast, so it
    equals ``predict``'s.

    Examples
    --------
    >>> import onnx, onnxruntime
    >>> from skmnist import fetch_mnist, make_mnist_pipeline, to_onnx
    >>> X, y = fetch_mnist("train", return_X_y=True)
    >>> pipe = make_mnist_pipeline(epochs=2).fit(X[:5000], y[:5000])  # doctest: +SKIP
    >>> onnx.save(to_onnx(pipe), "mnist.onnx")  # doctest: +SKIP
    >>> session = onnxruntime.InferenceSession("mnist.onnx")
    >>> label, proba = session.run(None, {"images": X[:3]})  # doctest: +SKIP
    """
    flattener, classifier = _steps(estimator)
    _check_fitted(flattener, classifier)
    if input_dtype is None:
        input_dtype = _default_dtype(flattener)
    if not isinstance(input_dtype, str) or input_dtype not in INPUT_DTYPES:
        raise ValueError(
            f"input_dtype must be one of {list(INPUT_DTYPES)} or None; got "
            f"{input_dtype!r}."
        )
    onnx = import_onnx()
    return _build(onnx, flattener, classifier, np.dtype(input_dtype))


class _Graph:
    """The nodes and initializers of an ONNX graph, each node named by its output."""

    def __init__(self, onnx):
        self.helper, self.numpy_helper = onnx.helper, onnx.numpy_helper
        self.nodes, self.initializers = [], []

    def const(self, name, array):
        self.initializers.append(self.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(
            self.helper.make_node(op, inputs, [output], name=output, **attrs)
        )
        return output


def _build(onnx, flattener, classifier, input_dtype):
    graph = _Graph(onnx)
    if flattener is not None:
        input_name, shape = "images", ["N", *map(int, flattener.image_shape_)]
    else:
        input_name, shape = "features", ["N", int(classifier.n_features_in_)]
    elem_type = onnx.helper.np_dtype_to_tensor_dtype(input_dtype)
    graph_input = onnx.helper.make_tensor_value_info(input_name, elem_type, shape)
    rows = _scaled_rows(graph, onnx, input_name, len(shape), flattener)
    probabilities = _layers(graph, onnx, rows, classifier._forward_layers())
    outputs = _label_and_probabilities(graph, onnx, probabilities, classifier.classes_)
    what = "a Pipeline (ImageFlattener, " if flattener is not None else "a "
    what += type(classifier).__name__ + (")" if flattener is not None else "")
    from . import __version__

    model = onnx.helper.make_model(
        onnx.helper.make_graph(
            graph.nodes,
            "skmnist",
            [graph_input],
            outputs,
            initializer=graph.initializers,
            doc_string=f"{what} exported by skmnist.to_onnx",
        ),
        opset_imports=[onnx.helper.make_opsetid("", OPSET)],
        producer_name="skmnist",
        producer_version=__version__,
        doc_string=f"{what}: '{input_name}' in, 'label' and 'probabilities' out.",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def _scaled_rows(graph, onnx, input_name, ndim, flattener):
    """What ImageFlattener.transform and the classifier's _check_X do.

    Float32 pixels, flat, divided by ``max_value_`` (in float32).
    """
    x = graph.node("Cast", [input_name], "pixels", to=onnx.TensorProto.FLOAT)
    if ndim > 2:
        x = graph.node("Flatten", [x], "rows", axis=1)
    if flattener is not None:
        scale = graph.const("max_value", np.float32(flattener.max_value_))
        x = graph.node("Div", [x, scale], "scaled")
    return x


def _layers(graph, onnx, x, stack):
    """What predict_proba's NumPy forward pass does.

    The layers in float32, the output layer's bias and activation in float64.
    """
    for i, (kernel, bias, activation) in enumerate(stack, start=1):
        x = graph.node("MatMul", [x, graph.const(f"kernel_{i}", kernel)], f"matmul_{i}")
        if i == len(stack):
            x = graph.node("Cast", [x], "logits_float64", to=onnx.TensorProto.DOUBLE)
            bias = bias.astype(np.float64)
        x = graph.node("Add", [x, graph.const(f"bias_{i}", bias)], f"dense_{i}")
        if activation == "softmax":
            x = graph.node("Softmax", [x], f"softmax_{i}", axis=-1)
        elif activation != "linear":
            x = graph.node(_ACTIVATION_OPS[activation], [x], f"{activation}_{i}")
    return x


def _label_and_probabilities(graph, onnx, x, classes):
    """The graph's outputs: the label, then the probabilities as float32.

    The label comes from the float64 probabilities, as predict chooses it
    (the first of tied maxima, as numpy.argmax).
    """
    helper, T = onnx.helper, onnx.TensorProto
    index = graph.node("ArgMax", [x], "class_index", axis=1, keepdims=0)
    labels = _label_tensor(onnx, classes)
    graph.initializers.append(labels)
    graph.nodes.append(
        helper.make_node("Gather", ["classes", index], ["label"], axis=0)
    )
    graph.nodes.append(helper.make_node("Cast", [x], ["probabilities"], to=T.FLOAT))
    return [
        helper.make_tensor_value_info("label", labels.data_type, ["N"]),
        helper.make_tensor_value_info("probabilities", T.FLOAT, ["N", len(classes)]),
    ]
