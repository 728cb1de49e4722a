"""Hypothesis settings: no per-example deadline (CI shares two cores), more examples on CI.

The log configuration of every test and doctest is in the root ``conftest.py``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")
