"""skmnist's tests.

scikit-learn runs its array API estimator check only when SciPy is imported
in array API mode (as scikit-learn's own CI does); this package is imported
before any test module or fixture imports SciPy.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
