from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV
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


def test_grid_search_over_epochs_and_widths(mnist_train, mnist_test):
    X, y = mnist_train
    X_test, y_test = mnist_test
    search = GridSearchCV(
        make_mnist_pipeline(random_state=0),
        {"mlp__epochs": [1, 8], "mlp__hidden_layer_sizes": [(8,), (32, 64)]},
        cv=2,
    )
    search.fit(X[:3000], y[:3000])
    assert search.best_params_ == {
        "mlp__epochs": 8,
        "mlp__hidden_layer_sizes": (32, 64),
    }
    assert search.cv_results_["mean_test_score"].shape == (4,)
    assert search.score(X_test[:2000], y_test[:2000]) > 0.85


def test_images_of_another_size(digits):
    images, y = digits
    pipe = make_mnist_pipeline(epochs=30, random_state=0).set_params(
        flatten__max_value=16
    )
    pipe.fit(images[:1400], y[:1400])
    assert pipe.named_steps["mlp"].n_features_in_ == 64
    assert pipe.score(images[1400:], y[1400:]) > 0.85
    assert pipe.predict(images[:1]).tolist() == [y[0]]
