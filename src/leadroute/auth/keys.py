"""API key secrets: generated with 256 bits of entropy, stored only as a SHA-256 digest.

A fast hash is right here: the secret is random, not a password, so there is nothing to
brute-force and lookups stay one indexed equality.
"""

import hashlib
import secrets

KEY_PREFIX = "lr_"


def generate_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
