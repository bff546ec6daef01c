"""A fixed-window rate limiter over any cache with atomic ``add`` and ``incr``.

Used for login attempts per client address (a brute-force guard in front of the account
lockout) and for public forms. The cache is Django's in the app (local memory in the embedded
default, Redis in production), but this module only needs the two methods below.
"""

from __future__ import annotations

import hashlib
import time
from typing import Protocol


class Counter(Protocol):
    def add(self, key: str, value: int, timeout: int) -> bool: ...

    def incr(self, key: str, delta: int = 1) -> int: ...


def hit(cache: Counter, *, scope: str, subject: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``subject``; False once ``limit`` hits fell in the current window.

    The subject (an address, a username) is hashed so the cache never holds it in clear.
    """
    window = int(time.time()) // window_seconds
    digest = hashlib.sha256(subject.encode("utf-8")).hexdigest()[:32]
    key = f"rl:{scope}:{window}:{digest}"
    if cache.add(key, 1, window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # the key expired between add and incr
            cache.add(key, 1, window_seconds + 1)
            count = 1
    return count <= limit
