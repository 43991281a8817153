"""The seed pipeline: images in, digits out, and the names of its steps."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

__all__ = ["FLATTEN_STEP", "MLP_STEP", "make_mnist_pipeline"]

#: Name of the pipeline's first step, the :class:`ImageFlattener`.
FLATTEN_STEP = "flatten"
#: Name of the pipeline's classifier step: search grids read ``mlp__epochs``.
MLP_STEP = "mlp"


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
    # Imported here, so that the step names cost nothing to import.
    from sklearn.pipeline import Pipeline

    from .classifier import KerasMLPClassifier
    from .preprocessing import ImageFlattener

    return Pipeline(
        [(FLATTEN_STEP, ImageFlattener()), (MLP_STEP, KerasMLPClassifier(**params))]
    )
