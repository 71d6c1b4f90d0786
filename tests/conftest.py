"""Test-session set-up shared by every test module."""

import os

# scikit-learn's `check_array_api_input` (run here with the NumPy namespace)
# skips itself unless SciPy's array-API mode is on, and SciPy reads this
# variable once, at import: set it before anything imports SciPy.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
