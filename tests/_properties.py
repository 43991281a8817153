"""Properties checked across modules: random arrays, and rows answered alone."""

import numpy as np


def assert_rows_answer_as_in_the_whole(estimator, X):
    """Each row's probabilities the same, bit for bit, whatever else is in the
    batch: one row, a few, hundreds, at several offsets, against all of ``X``."""
    everything = estimator.predict_proba(X)
    for start, stop in [(0, 1), (5, 6), (3, 40), (100, 700), (1000, len(X))]:
        np.testing.assert_array_equal(
            estimator.predict_proba(X[start:stop]), everything[start:stop]
        )


# Random arrays of any dtype and shape, for the property-based tests.
def random_arrays():
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(
        dtype=st.one_of(
            hnp.integer_dtypes(),
            hnp.floating_dtypes(),
            hnp.boolean_dtypes(),
            hnp.complex_number_dtypes(),
            hnp.unicode_string_dtypes(max_len=3),
        ),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
    )


def property_settings():
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
