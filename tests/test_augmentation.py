"""ImageAugmentation: its parameters, their units, and the Keras layer it builds."""

import warnings

import keras
import numpy as np
import pytest
from scikeras.wrappers import KerasClassifier
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skmnist import ImageAugmentation, KerasMLPClassifier, _augmenting
from skmnist._augmenting import Augmenter

NONE = {"rotation": 0, "shift": 0, "zoom": 0}


@pytest.fixture(scope="module")
def digits28(mnist_test):
    """200 MNIST test digits as float32 images in [0, 1]."""
    return (mnist_test[0][:200] / 255).astype(np.float32)


def _line(shape, *, vertical=False, length=None):
    """Images of one thick line through the centre, horizontal or vertical."""
    height, width = shape
    image = np.zeros(shape, np.float32)
    length = length or min(shape) * 2 // 3
    r, c = height // 2, width // 2
    if vertical:
        image[r - length // 2 : r + length // 2 + 1, c - 1 : c + 2] = 1
    else:
        image[r - 1 : r + 2, c - length // 2 : c + length // 2 + 1] = 1
    return image


def _moments(images):
    """Centroid (row, column) and principal-axis angle (degrees) of each image."""
    n, height, width = images.shape
    rows, columns = np.mgrid[:height, :width]
    mass = images.sum(axis=(1, 2))
    r = (images * rows).sum(axis=(1, 2)) / mass
    c = (images * columns).sum(axis=(1, 2)) / mass
    dr, dc = rows - r[:, None, None], columns - c[:, None, None]
    crr = (images * dr * dr).sum(axis=(1, 2))
    ccc = (images * dc * dc).sum(axis=(1, 2))
    crc = (images * dr * dc).sum(axis=(1, 2))
    angle = np.degrees(0.5 * np.arctan2(2 * crc, ccc - crr))
    return r, c, angle


def test_parameters_are_searchable_and_clone():
    augmentation = ImageAugmentation(rotation=15)
    assert repr(augmentation) == "ImageAugmentation(rotation=15)"
    assert ImageAugmentation().get_params() == {
        "rotation": 10.0,
        "shift": 2.0,
        "zoom": 0.1,
        "shear": 0.0,
        "elastic_alpha": 0.0,
        "elastic_sigma": 4.0,
    }
    assert augmentation.set_params(shift=3, elastic_alpha=8) is augmentation
    assert augmentation.get_params()["shift"] == 3
    # Held by a scikeras estimator, as the classifier holds it: nested keys
    # for GridSearchCV, and clone copies it.
    holder = KerasClassifier(model=None, augmentation=augmentation)
    assert holder.get_params()["augmentation__rotation"] == 15
    holder.set_params(augmentation__zoom=0.2)
    copy = clone(holder)
    assert copy.augmentation is not augmentation
    assert copy.augmentation.get_params() == augmentation.get_params()
    assert copy.augmentation.zoom == 0.2


@pytest.mark.parametrize(
    "params, error, match",
    [
        (
            {"rotation": -1},
            ValueError,
            "'rotation' parameter .* range \\[0.0, 180.0\\]",
        ),
        ({"rotation": 200}, ValueError, "'rotation' parameter"),
        ({"rotation": "10"}, TypeError, "'rotation' parameter .* float"),
        ({"shift": -0.5}, ValueError, "'shift' parameter"),
        ({"zoom": 1.0}, ValueError, "'zoom' parameter .* range \\[0.0, 1.0\\)"),
        ({"shear": 60}, ValueError, "'shear' parameter .* range \\[0.0, 45.0\\]"),
        ({"elastic_alpha": -1}, ValueError, "'elastic_alpha' parameter"),
        ({"elastic_sigma": 0}, ValueError, "'elastic_sigma' parameter"),
        ({"shift": 9}, ValueError, "at most the smaller side .*\\(8 pixels for 8x12"),
    ],
)
def test_bad_settings_are_refused_when_used(params, error, match):
    augmentation = ImageAugmentation(**params)  # stored, not checked
    with pytest.raises(error, match=match):
        augmentation.make_layer((8, 12))


@pytest.mark.parametrize("image_shape", [(784,), (28, 28, 1), (0, 28), "28x28"])
def test_rows_that_are_not_images_are_refused(image_shape):
    with pytest.raises(ValueError, match="shape \\(height, width\\) of one image"):
        ImageAugmentation().make_layer(image_shape)


def test_augment_wants_a_batch_of_images():
    with pytest.raises(ValueError, match="shaped \\(n_samples, height, width\\)"):
        ImageAugmentation().augment(np.zeros((4, 784)))


def test_digits_change_but_keep_their_ink(digits28):
    out = ImageAugmentation().augment(digits28, random_state=0)
    assert out.shape == digits28.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    changed = np.abs(out - digits28).mean(axis=(1, 2)) / digits28.mean(axis=(1, 2))
    assert (changed > 0.1).all()
    # Zooming by up to 10% changes the area by up to about 20%.
    ink = out.sum(axis=(1, 2)) / digits28.sum(axis=(1, 2))
    assert 0.75 < ink.min() and ink.max() < 1.3
    assert abs(ink.mean() - 1) < 0.03


def test_all_zero_settings_change_nothing(digits28):
    out = ImageAugmentation(**NONE).augment(digits28, random_state=0)
    np.testing.assert_array_equal(out, digits28)


@pytest.mark.jax
def test_same_seed_same_batch_other_seed_other_batch(digits28):
    augmentation = ImageAugmentation(shear=10, elastic_alpha=8, elastic_sigma=3)
    first = augmentation.augment(digits28[:50], random_state=1)
    np.testing.assert_array_equal(
        augmentation.augment(digits28[:50], random_state=1), first
    )
    other = augmentation.augment(digits28[:50], random_state=2)
    assert np.abs(other - first).mean() > 0.05


def test_each_training_call_draws_anew_and_inference_is_the_identity(digits28):
    rows = digits28[:50].reshape(50, -1)
    layer = ImageAugmentation().make_layer((28, 28), seed=0)
    first = np.asarray(layer(rows, training=True))
    second = np.asarray(layer(rows, training=True))
    assert np.abs(second - first).mean() > 0.05
    np.testing.assert_array_equal(np.asarray(layer(rows, training=False)), rows)
    np.testing.assert_array_equal(np.asarray(layer(rows)), rows)


def test_rotation_is_in_degrees():
    lines = np.repeat(_line((29, 29))[None], 300, axis=0)
    out = ImageAugmentation(rotation=30, shift=0, zoom=0).augment(lines, random_state=0)
    _, _, angle = _moments(out)
    # Uniform on [-30, 30]: every angle inside, the extremes reached.
    assert np.abs(angle).max() < 31
    assert np.abs(angle).max() > 28
    assert 15 < angle.std() < 20  # 30 / sqrt(3) = 17.3


def test_shear_is_in_degrees():
    lines = np.repeat(_line((29, 29), vertical=True)[None], 300, axis=0)
    out = ImageAugmentation(**NONE, shear=20).augment(lines, random_state=0)
    _, _, angle = _moments(out)
    lean = 90 - np.abs(angle)  # a vertical line lies at +-90 degrees
    assert lean.max() < 21
    assert lean.max() > 18


def test_shift_is_in_pixels_along_each_side():
    # Not square, so a height and a width swapped would show.
    dots = np.zeros((300, 21, 15), np.float32)
    dots[:, 9:12, 6:9] = 1
    out = ImageAugmentation(rotation=0, shift=3, zoom=0).augment(dots, random_state=0)
    r, c, _ = _moments(out)
    for moved in (r - 10, c - 7):
        assert np.abs(moved).max() <= 3.01
        assert np.abs(moved).max() > 2.7


def test_small_images_work(digits):
    images = (digits[0][:20] / 16).astype(np.float32)
    out = ImageAugmentation(rotation=15, shift=1).augment(images, random_state=0)
    assert out.shape == (20, 8, 8)
    assert np.abs(out - images).mean() > 0.02
    ink = out.sum(axis=(1, 2)) / images.sum(axis=(1, 2))
    assert 0.7 < ink.min() and ink.max() < 1.3


def test_elastic_distortion_moves_pixels_in_both_directions():
    # Images of their own column and row numbers: what lands on a pixel
    # tells where it came from.
    height, width = 24, 24
    columns = np.tile(np.arange(width, dtype=np.float32), (height, 1)) / width
    rows = columns.T.copy()
    augmentation = ImageAugmentation(**NONE, elastic_alpha=34, elastic_sigma=4)
    # The same distortions read through both probes: the same seed and batch
    # size twice. Many images, as one smooth field's sample correlation
    # with another independent one often passes 0.5.
    moved = [
        np.asarray(
            augmentation.make_layer((height, width), seed=3)(
                np.repeat(probe.reshape(1, -1), 32, axis=0), training=True
            )
        ).reshape(32, height, width)
        for probe in (columns, rows)
    ]
    inner = (slice(None), slice(6, -6), slice(6, -6))
    dx = (moved[0] - columns)[inner] * width
    dy = (moved[1] - rows)[inner] * height
    assert 0.3 < dx.std() < 4 and 0.3 < dy.std() < 4
    # Independent fields: Keras' elastic_transform correlates them at 0.97+.
    assert abs(np.corrcoef(dx.ravel(), dy.ravel())[0, 1]) < 0.3


@pytest.mark.jax
@pytest.mark.parametrize(
    "move",
    [{"rotation": 30}, {"zoom": 0.2}, {"shear": 20}, {"shift": 3}],
    ids=lambda move: next(iter(move)),
)
def test_each_move_alone_is_its_keras_layers(digits28, move):
    # The layer draws each move from Keras' layer and reads the images
    # itself: the same seed gives what the Keras layer makes of them.
    augmentation = ImageAugmentation(**{**NONE, **move})
    out = augmentation.augment(digits28, random_state=0)
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    (keras_layer,) = augmentation.make_layer((28, 28), seed=seed).steps
    expected = np.asarray(keras_layer(digits28[..., None], training=True))[..., 0]
    assert np.abs(out - digits28).mean() > 0.02
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.jax
def test_moves_compose_as_keras_layers_one_after_another(digits28):
    # One read of the composed moves, against Keras' four layers in turn
    # (four reads, each blurring a little): the digits land in the same
    # place. Composed the other way round, centroids differ by over a pixel.
    augmentation = ImageAugmentation(rotation=20, shift=2, zoom=0.1, shear=10)
    layer = augmentation.make_layer((28, 28), seed=5)
    out = np.asarray(layer(digits28.reshape(len(digits28), -1), training=True))
    images = digits28[..., None]
    for keras_layer in augmentation.make_layer((28, 28), seed=5).steps:
        images = keras_layer(images, training=True)
    one_by_one = np.asarray(images)[..., 0]
    r, c, _ = _moments(out.reshape(digits28.shape))
    r_expected, c_expected, _ = _moments(one_by_one)
    assert np.abs(r - r_expected).max() < 0.3
    assert np.abs(c - c_expected).max() < 0.3
    assert np.abs(r - _moments(digits28)[0]).max() > 2  # the moves did move them


def test_a_model_predicts_without_augmentation_and_trains_compiled(digits28):
    rows = digits28.reshape(len(digits28), -1)
    labels = np.arange(len(rows)) % 10
    augmentation = ImageAugmentation(shear=5, elastic_alpha=8, elastic_sigma=3)
    model = keras.Sequential(
        [
            keras.Input((784,)),
            augmentation.make_layer((28, 28), seed=0),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(rows, labels, epochs=1, batch_size=128, verbose=0)
    if keras.backend.backend() == "jax":
        # The whole step compiles on JAX; on TensorFlow Keras turns XLA off.
        assert model.jit_compile
    dense = model.layers[-1]
    expected = keras.ops.softmax(rows @ dense.kernel.numpy() + dense.bias.numpy())
    np.testing.assert_allclose(
        model.predict(rows, verbose=0), np.asarray(expected), rtol=1e-5, atol=1e-6
    )


@pytest.mark.jax
def test_augmenter_for_a_compiled_loop_is_seeded_and_draws_anew(digits_flat):
    rows = digits_flat[0][:300]

    def draws(seed):
        augmentation = ImageAugmentation(shift=1, elastic_alpha=8, elastic_sigma=2)
        augmenter = Augmenter(augmentation.make_layer((8, 8), seed=seed), 64)
        return [np.asarray(augmenter(rows)), np.asarray(augmenter(rows[:77]))]

    first, again, other = draws(0), draws(0), draws(1)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1].shape == (77, 64)
    assert np.abs(first[0][:77] - first[1]).mean() > 0.02  # a new draw each call
    assert np.abs(first[0] - other[0]).mean() > 0.02
    assert np.abs(first[0] - rows).mean() > 0.02


# -- KerasMLPClassifier(augmentation=...): training augmented, prediction not ------


def _augmented_fit(X, y, **params):
    from skmnist import KerasMLPClassifier

    params = {
        "hidden_layer_sizes": (32,),
        "epochs": 3,
        "random_state": 0,
        "augmentation": ImageAugmentation(rotation=10, shift=1),
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KerasMLPClassifier(**params).fit(X, y)


def _weights(clf):
    return [*clf.coefs_, *clf.intercepts_]


def _forward(clf, X):
    """predict_proba by hand, from the fitted weights."""
    out = X.astype(np.float64)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_, strict=True)):
        out = out @ w + b
        out = np.maximum(out, 0) if i < len(clf.coefs_) - 1 else out
    proba = np.exp(out - out.max(axis=1, keepdims=True))
    return proba / proba.sum(axis=1, keepdims=True)


def test_augmentation_changes_training_but_never_prediction(digits_flat):
    X, y = digits_flat
    plain = _augmented_fit(X, y, augmentation=None)
    clf = _augmented_fit(X, y)
    assert not np.allclose(_weights(plain)[0], _weights(clf)[0], atol=1e-3)
    # Augmented digits are harder: the training loss stays higher.
    assert clf.loss_curve_[-1] > plain.loss_curve_[-1] + 0.05
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, _forward(clf, X), atol=1e-5)
    clf.set_params(augmentation=ImageAugmentation(rotation=45, shift=3))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])


@pytest.mark.jax
def test_same_random_state_same_augmented_model(training_path, digits_flat):
    X, y = digits_flat
    # The first fit compiles the augmentation; the others reuse it, with
    # their own seeds.
    _augmenting._COMPILED.clear()
    first, again = _augmented_fit(X, y, epochs=2), _augmented_fit(X, y, epochs=2)
    for a, b in zip(_weights(first), _weights(again), strict=True):
        np.testing.assert_array_equal(a, b)
    other = _augmented_fit(X, y, epochs=2, random_state=1)
    assert not np.allclose(_weights(first)[0], _weights(other)[0], atol=1e-3)
    assert len(_augmenting._COMPILED) == 1


class _CleanValidation(keras.callbacks.Callback):
    """At each epoch's end: the logged val_accuracy, and the model's on clean rows."""

    def __init__(self, X_val, y_val):
        super().__init__()
        self.X_val, self.y_val = X_val, y_val
        self.logged, self.clean = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.logged.append(float(logs["val_accuracy"]))
        scores = self.model.predict(self.X_val, verbose=0)
        self.clean.append(float(np.mean(scores.argmax(1) == self.y_val)))


def test_held_out_rows_are_not_augmented(training_path, digits_flat):
    from skmnist import _training

    X, y = digits_flat
    *_, (X_val, y_val) = _training.hold_out(X, y, None, 0.2, 0)
    watch = _CleanValidation(X_val, y_val)
    clf = _augmented_fit(
        X,
        y,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=50,
        augmentation=ImageAugmentation(rotation=20, shift=2),
        callbacks=[watch],
    )
    assert len(watch.logged) == 3
    np.testing.assert_allclose(watch.logged, watch.clean, atol=1e-6)
    np.testing.assert_allclose(clf.validation_scores_, watch.clean, atol=1e-6)


def test_search_over_the_augmentation_settings(digits):
    from sklearn.model_selection import GridSearchCV

    from skmnist import make_mnist_pipeline

    images, y = digits
    pipeline = make_mnist_pipeline(
        hidden_layer_sizes=(32,),
        epochs=4,
        learning_rate_init=0.01,
        random_state=0,
        augmentation=ImageAugmentation(shift=1),
    )
    search = GridSearchCV(pipeline, {"mlp__augmentation__rotation": [0.0, 30.0]}, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(images[:600], y[:600])
    assert [p["mlp__augmentation__rotation"] for p in search.cv_results_["params"]] == [
        0.0,
        30.0,
    ]
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] != scores[1]  # the setting reached the training
    best = search.best_estimator_.named_steps["mlp"].augmentation
    assert best.rotation == search.best_params_["mlp__augmentation__rotation"]
    assert best.shift == 1


def test_a_model_file_keeps_the_augmentation_setting(digits, tmp_path):
    from skmnist import load, make_mnist_pipeline, save

    images, y = digits
    augmentation = ImageAugmentation(rotation=12.5, shift=1, shear=3)
    with pytest.warns(ConvergenceWarning):
        pipeline = make_mnist_pipeline(
            hidden_layer_sizes=(16,),
            epochs=2,
            random_state=0,
            augmentation=augmentation,
        ).fit(images, y)
    save(pipeline, tmp_path / "model.skmnist")
    loaded = load(tmp_path / "model.skmnist")
    assert loaded.named_steps["mlp"].augmentation.get_params() == (
        augmentation.get_params()
    )
    np.testing.assert_array_equal(
        loaded.predict_proba(images), pipeline.predict_proba(images)
    )


def test_rows_of_non_square_images_need_their_shape(digits_flat):
    from skmnist import KerasMLPClassifier, MLPClassifier

    X, y = digits_flat[0][:, :48], digits_flat[1]  # 8x6 images
    with pytest.raises(ValueError, match=r"48 features.*image_shape=\(height, width\)"):
        _augmented_fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=r"image_shape=\(6, 7\).*48 features"):
        _augmented_fit(X, y, epochs=1, image_shape=(6, 7))
    clf = _augmented_fit(X, y, epochs=1, image_shape=(8, 6))
    assert clf.n_features_in_ == 48
    # Without augmentation the shape is not needed, nor checked.
    _augmented_fit(X, y, epochs=1, augmentation=None, image_shape=(5, 5))
    # scikit-learn's signature has no augmentation.
    assert "augmentation" not in MLPClassifier().get_params()
    assert "augmentation" in KerasMLPClassifier().get_params()


def test_lbfgs_cannot_augment(digits_flat):
    X, y = digits_flat
    clf = KerasMLPClassifier(solver="lbfgs", augmentation=ImageAugmentation())
    with pytest.raises(ValueError, match="cannot augment"):
        clf.fit(X, y)
