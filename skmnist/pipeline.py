"""The seed pipeline: images in, digits out."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.pipeline import Pipeline

from .preprocessing import ImageFlattener

__all__ = ["make_mnist_pipeline"]


def make_mnist_pipeline(**params):
    """Build the MNIST pipeline: an :class:`ImageFlattener`, then a classifier.

    Parameters
    ----------
    **params : dict
        Parameters of the :class:`KerasMLPClassifier` step, such as
        ``epochs=5``, ``hidden_layer_sizes=(128,)`` or ``random_state=0``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        ``Pipeline([("flatten", ImageFlattener()), ("mlp",
        KerasMLPClassifier(**params))])``. Its steps are named so that search
        grids read ``mlp__epochs``, ``mlp__hidden_layer_sizes`` and
        ``flatten__max_value``.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skmnist import make_mnist_pipeline
    >>> search = GridSearchCV(
    ...     make_mnist_pipeline(random_state=0),
    ...     {"mlp__epochs": [5, 10], "mlp__hidden_layer_sizes": [(32, 64), (128,)]},
    ... )
    """
    from .classifier import KerasMLPClassifier  # imports Keras: only when called

    return Pipeline(
        [("flatten", ImageFlattener()), ("mlp", KerasMLPClassifier(**params))]
    )
