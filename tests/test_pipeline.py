from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline

from skmnist import ImageFlattener, KerasMLPClassifier, make_mnist_pipeline


def test_steps_and_parameters():
    pipe = make_mnist_pipeline(epochs=3, hidden_layer_sizes=(16,))
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == ["flatten", "mlp"]
    assert isinstance(pipe.named_steps["flatten"], ImageFlattener)
    assert isinstance(pipe.named_steps["mlp"], KerasMLPClassifier)
    params = pipe.get_params()
    assert params["mlp__epochs"] == 3 and params["mlp__hidden_layer_sizes"] == (16,)
    assert is_classifier(pipe)
    assert clone(pipe).get_params()["mlp__epochs"] == 3


def test_grid_search_over_epochs_and_widths(local_search, mnist_test):
    search = local_search  # epochs (1, 3) x widths ((16,), (32, 64)), 3 folds
    assert search.best_params_ == {
        "mlp__epochs": 3,
        "mlp__hidden_layer_sizes": (32, 64),
    }
    assert search.cv_results_["mean_test_score"].shape == (4,)
    X_test, y_test = mnist_test
    # refitted on the 3,000 images for 3 epochs: 0.82 here
    assert search.score(X_test[:2000], y_test[:2000]) > 0.75


def test_images_of_another_size(digits):
    images, y = digits
    pipe = make_mnist_pipeline(epochs=30, random_state=0).set_params(
        flatten__max_value=16
    )
    pipe.fit(images[:1400], y[:1400])
    assert pipe.named_steps["mlp"].n_features_in_ == 64
    assert pipe.score(images[1400:], y[1400:]) > 0.85
    assert pipe.predict(images[:1]).tolist() == [y[0]]
