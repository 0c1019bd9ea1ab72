"""Password hashing at a test's cost.

The platform hashes people's passwords with argon2id at t=2, m=19 MiB (tongban/accounts.py), on
purpose about 0.05 s a hash: hundreds of test sign-ins paid it again and again. For the run the
hasher is swapped for argon2id at the smallest cost, the same way of working at a fraction of
the time; the demo rows are hashed with it too, so every sign-in still verifies a real argon2id
hash. The platform's own hasher is kept here, and tests/spine/test_sign_in.py checks its
parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher

from tongban import accounts

PLATFORM_HASHER = accounts._hasher  # noqa: SLF001 - the parameters the platform uses
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@contextmanager
def quick_password_hashes() -> Iterator[None]:
    hasher, dummy = accounts._hasher, accounts._DUMMY_HASH  # noqa: SLF001
    accounts._hasher = QUICK_HASHER  # noqa: SLF001
    accounts._DUMMY_HASH = QUICK_HASHER.hash("not-a-password")  # noqa: SLF001
    try:
        yield
    finally:
        accounts._hasher, accounts._DUMMY_HASH = hasher, dummy  # noqa: SLF001
