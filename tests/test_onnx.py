"""skmnist.to_onnx: the exported graph answers as the estimator, in onnxruntime."""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmnist import (
    ImageFlattener,
    KerasMLPClassifier,
    MLPClassifier,
    make_mnist_pipeline,
    to_onnx,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

# The promise: onnxruntime's probabilities equal predict_proba's.
ATOL = 1e-5
N_TRAIN = 10_000

# Fits of a few epochs, on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _run(model, X):
    """``(label, probabilities)`` of an ONNX model in onnxruntime."""
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (name,) = [i.name for i in session.get_inputs()]
    return session.run(["label", "probabilities"], {name: X})


def _assert_same_answers(model, estimator, X, X_onnx=None):
    label, proba = _run(model, X if X_onnx is None else X_onnx)
    expected = estimator.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == expected.shape
    np.testing.assert_allclose(proba, expected, rtol=0, atol=ATOL)
    np.testing.assert_array_equal(label, estimator.predict(X))
    return float(np.abs(proba - expected).max())


@pytest.fixture(scope="module", params=["KerasMLPClassifier", "MLPClassifier"])
def mnist_pipeline(request, mnist_train):
    """A pipeline fitted on the first 10,000 MNIST training images, each face."""
    X, y = mnist_train
    if request.param == "KerasMLPClassifier":
        pipe = make_mnist_pipeline(epochs=2, random_state=0)
    else:
        pipe = Pipeline(
            [("flatten", ImageFlattener()), ("mlp", MLPClassifier(max_iter=2))]
        )
        pipe.set_params(mlp__random_state=0)
    return pipe.fit(X[:N_TRAIN], y[:N_TRAIN])


def test_pipeline_on_the_mnist_test_set(mnist_pipeline, mnist_test):
    X_test, y_test = mnist_test
    assert X_test.shape == (10_000, 28, 28) and X_test.dtype == np.uint8
    model = to_onnx(mnist_pipeline)
    (graph_input,) = model.graph.input
    assert graph_input.name == "images"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = graph_input.type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["N", 28, 28]
    worst = _assert_same_answers(model, mnist_pipeline, X_test)
    print(f"max |onnxruntime - predict_proba| on 10,000 test images: {worst:.2e}")
    # and it is a classifier worth exporting
    assert (_run(model, X_test)[0] == y_test).mean() > 0.85


def test_one_image_and_an_empty_batch(mnist_pipeline, mnist_test):
    X_test, _ = mnist_test
    model = to_onnx(mnist_pipeline)
    _assert_same_answers(model, mnist_pipeline, X_test[:1])
    label, proba = _run(model, X_test[:0])
    assert label.shape == (0,) and proba.shape == (0, 10)


@pytest.mark.parametrize("input_dtype", ["float32", "float64", "int64"])
def test_other_input_dtypes(mnist_pipeline, mnist_test, input_dtype):
    X = mnist_test[0][:500]
    model = to_onnx(mnist_pipeline, input_dtype=input_dtype)
    _assert_same_answers(model, mnist_pipeline, X, X.astype(input_dtype))


def test_saved_file_round_trip(mnist_pipeline, mnist_test, tmp_path):
    path = tmp_path / "mnist.onnx"
    onnx.save(to_onnx(mnist_pipeline), str(path))
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded)
    _assert_same_answers(loaded, mnist_pipeline, mnist_test[0][:200])


# -- bare classifiers on flat rows, every hidden activation --------------------------


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_bare_classifier_on_float_rows(digits_flat, activation):
    X, y = digits_flat
    clf = MLPClassifier((24, 16), activation=activation, max_iter=5, random_state=0)
    clf.fit(X, y)
    model = to_onnx(clf)
    (graph_input,) = model.graph.input
    assert graph_input.name == "features"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    _assert_same_answers(model, clf, X)


def test_bare_classifier_takes_float64_rows(digits_flat):
    X, y = digits_flat
    X = X.astype(np.float64) + 1e-3  # not float32 values: the graph casts as fit does
    clf = KerasMLPClassifier((16,), activation="sigmoid", epochs=3, random_state=0)
    clf.fit(X, y)
    _assert_same_answers(to_onnx(clf, input_dtype="float64"), clf, X)


@pytest.mark.parametrize(
    "labels",
    [np.array(["zero", "one"]), np.array([False, True]), np.array([3.0, 7.0])],
    ids=["str", "bool", "float"],
)
def test_binary_pipeline_keeps_the_labels(digits, labels):
    # 8x8 images with pixels 0..16, two classes: the scale is learned, not 255
    images, y = digits
    keep = y < 2
    images, y = images[keep], labels[y[keep]]
    pipe = Pipeline(
        [
            ("flatten", ImageFlattener(max_value=16)),
            ("mlp", KerasMLPClassifier((8,), epochs=3, random_state=0)),
        ]
    ).fit(images, y)
    model = to_onnx(pipe)
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    label, proba = _run(model, images.astype(np.float32))
    assert proba.shape == (len(images), 2)
    assert label.dtype == (object if labels.dtype.kind == "U" else labels.dtype)
    _assert_same_answers(model, pipe, images, images.astype(np.float32))


def test_dropout_is_left_out(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier((32,), dropout=0.5, epochs=2, random_state=0).fit(X, y)
    model = to_onnx(clf)
    assert not any(node.op_type == "Dropout" for node in model.graph.node)
    _assert_same_answers(model, clf, X)


# -- refusals ----------------------------------------------------------------------


def test_unfitted_estimators_are_refused():
    with pytest.raises(NotFittedError, match="ImageFlattener instance is not fitted"):
        to_onnx(make_mnist_pipeline())
    with pytest.raises(
        NotFittedError, match="KerasMLPClassifier instance is not fitted"
    ):
        to_onnx(KerasMLPClassifier())
    with pytest.raises(NotFittedError, match="MLPClassifier instance is not fitted"):
        to_onnx(MLPClassifier())
    # a fitted flattener before an unfitted classifier
    flattener = ImageFlattener().fit(np.zeros((1, 8, 8), np.uint8))
    pipe = Pipeline([("flatten", flattener), ("mlp", MLPClassifier())])
    with pytest.raises(NotFittedError, match="MLPClassifier instance is not fitted"):
        to_onnx(pipe)


def test_a_network_that_is_not_a_dense_stack_is_refused(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier((8,), activation="elu", epochs=1, random_state=0)
    clf.fit(X[:200], y[:200])
    with pytest.raises(ValueError, match="not a chain of Dense layers.*'elu'"):
        to_onnx(clf)


def test_other_estimators_and_steps_are_refused(digits_flat):
    X, y = digits_flat
    with pytest.raises(TypeError, match="got LogisticRegression"):
        to_onnx(LogisticRegression())
    pipe = Pipeline(
        [("scale", StandardScaler()), ("mlp", MLPClassifier((8,), max_iter=1))]
    )
    pipe.fit(X[:200], y[:200])
    with pytest.raises(TypeError, match=r"steps \['StandardScaler', 'MLPClassifier'\]"):
        to_onnx(pipe)
    with pytest.raises(ValueError, match="input_dtype must be one of"):
        to_onnx(pipe[-1], input_dtype="float16")


def test_missing_onnx_names_the_extra():
    code = (
        "import sys; sys.modules['onnx'] = None\n"
        "from skmnist._optional import import_onnx\n"
        "try:\n    import_onnx()\n"
        "except ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert 'pip install "skmnist[onnx]"' in out


# -- deployment: onnxruntime alone ---------------------------------------------------

_DEPLOYED = """
import sys
# Any attempt to import these would now raise: the model must not need them.
for name in ("tensorflow", "keras", "jax", "skmnist", "sklearn"):
    sys.modules[name] = None
import numpy as np
import onnxruntime as ort

model, images, out = sys.argv[1:]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
label, proba = session.run(None, {"images": np.load(images)})
np.savez(out, label=label, proba=proba)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                ("tensorflow", "keras", "jax", "skmnist", "sklearn") and sys.modules[m])
print(loaded)
"""


def test_exported_file_runs_in_a_process_without_tensorflow(
    mnist_pipeline, mnist_test, tmp_path
):
    X_test, _ = mnist_test
    model, images, out = tmp_path / "m.onnx", tmp_path / "x.npy", tmp_path / "out.npz"
    onnx.save(to_onnx(mnist_pipeline), str(model))
    np.save(images, X_test)
    run = subprocess.run(
        [sys.executable, "-c", _DEPLOYED, model, images, out],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    result = np.load(out)
    expected = mnist_pipeline.predict_proba(X_test)
    np.testing.assert_allclose(result["proba"], expected, rtol=0, atol=ATOL)
    np.testing.assert_array_equal(result["label"], mnist_pipeline.predict(X_test))
