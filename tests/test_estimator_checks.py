"""scikit-learn's own estimator checks, with every expected failure explained."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmnist import ImageFlattener, KerasMLPClassifier, MLPClassifier

# What no subclass of scikeras' KerasClassifier can change, and what minibatch
# SGD cannot promise. Nothing else may fail.
CLASSIFIER_EXPECTED_FAILURES = {
    "check_estimator_tags_renamed": (
        "scikeras' BaseWrapper defines _more_tags without __sklearn_tags__; a "
        "subclass cannot remove a method from its base class"
    ),
    "check_mixin_order": (
        "scikeras' KerasClassifier lists ClassifierMixin after BaseEstimator; a "
        "subclass cannot reorder its base class's MRO"
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch SGD: a weight of 2 doubles a sample's gradient inside one "
        "batch, which is not the same training path as seeing it in two batches"
    ),
}


# skmnist.MLPClassifier runs the same engine, and takes sparse input.
MLP_EXPECTED_FAILURES = {
    **CLASSIFIER_EXPECTED_FAILURES,
    "check_sample_weight_equivalence_on_sparse_data": (
        CLASSIFIER_EXPECTED_FAILURES["check_sample_weight_equivalence_on_dense_data"]
    ),
}


def _expected_failures(estimator):
    if isinstance(estimator, KerasMLPClassifier):
        return CLASSIFIER_EXPECTED_FAILURES
    if isinstance(estimator, MLPClassifier):
        return MLP_EXPECTED_FAILURES
    return {}


@parametrize_with_checks(
    # A high learning rate learns the checks' small toy problems in few epochs:
    # 5 at 0.05 fit check_classifiers_train's blobs as well as 10 at 0.02 did
    # (accuracy 0.94 and 0.97 where the check asks for more than 0.83), and the
    # checks fit hundreds of times, each epoch some 0.07 s of Keras' loop. One
    # hidden layer learns them as well as the seed's two, and builds faster.
    [
        ImageFlattener(),
        KerasMLPClassifier(
            hidden_layer_sizes=(16,), epochs=5, learning_rate_init=0.05, random_state=0
        ),
        MLPClassifier(max_iter=5, learning_rate_init=0.05, random_state=0),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
