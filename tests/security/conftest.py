"""Hypothesis profiles for the security property tests.

`ci` (the default) keeps tests/security/test_hostile_input.py under a minute;
HYPOTHESIS_PROFILE=thorough runs thousands of cases per test.
"""

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    # The Django test client and the personas are function-scoped fixtures shared
    # by every example: each example works inside a savepoint that is rolled back.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    "database": None,
    "print_blob": True,
}
settings.register_profile(
    "ci", max_examples=int(os.environ.get("HYPOTHESIS_CI_EXAMPLES", 60)), **_COMMON
)
settings.register_profile(
    "thorough",
    max_examples=int(os.environ.get("HYPOTHESIS_THOROUGH_EXAMPLES", 1500)),
    **_COMMON,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
