"""Shims for older versions of the libraries skmnist supports."""

# Authors: The skmnist developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.utils import Tags, TargetTags

# scikit-learn's parameter validation is private API, but it is what gives
# every scikit-learn estimator its parameter errors; skmnist uses it for the
# same messages. It has not changed from 1.6 to 1.9, the versions CI tests.
# TODO: revisit at each new scikit-learn release line (the upper bound).
from sklearn.utils._param_validation import (  # noqa: F401
    Interval,
    InvalidParameterError,
    StrOptions,
)


class _TagsRoot:
    """The end of the ``__sklearn_tags__`` chain behind scikeras' classes.

    scikeras' ``KerasClassifier`` lists ``ClassifierMixin`` after
    ``BaseEstimator``, so ``ClassifierMixin.__sklearn_tags__`` calls
    ``super()`` with nothing behind it. scikit-learn 1.6 calls it that way
    when it merges the ``_more_tags`` that scikeras defines, and fails. Placed
    last among the bases, this class answers that call with default tags.

    TODO: remove when the minimum scikit-learn version is 1.7, which no
    longer reads ``_more_tags``.
    """

    def __sklearn_tags__(self):
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


class _LegacyTags:
    """Tags for scikit-learn 1.6, which merges each class's ``_more_tags``.

    scikeras' ``_more_tags`` declares multi-output and multilabel support this
    classifier does not have, and checks to skip; listed before
    ``KerasClassifier`` among the bases, this class's ``_more_tags`` is merged
    after it and corrects that. scikit-learn 1.7 and newer read only
    ``__sklearn_tags__``.

    TODO: remove when the minimum scikit-learn version is 1.7.
    """

    def _more_tags(self):
        return {
            "multioutput": False,
            "multilabel": False,
            "poor_score": False,
            "_xfail_checks": {},
        }
