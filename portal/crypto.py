"""Field encryption for sensitive personal information.

AES-256-GCM with a random 96-bit nonce per value (stored as nonce || ciphertext).
Look-ups go through an HMAC-SHA256 of the normalised value under a key derived
from the same secret, so equal values can be found without decrypting anything.
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

NONCE_BYTES = 12


def _master_key() -> bytes:
    key = base64.b64decode(current_app.config["FIELD_ENCRYPTION_KEY"])
    if len(key) != 32:
        raise RuntimeError("FIELD_ENCRYPTION_KEY must be 32 bytes, base64-encoded")
    return key


def _subkey(purpose: bytes) -> bytes:
    return hmac.new(_master_key(), purpose, hashlib.sha256).digest()


def encrypt(plaintext: str, context: str) -> bytes:
    """Encrypt `plaintext`; `context` (e.g. "doc_number") is bound as associated data
    so a ciphertext copied into another column will not decrypt."""
    nonce = os.urandom(NONCE_BYTES)
    aes = AESGCM(_subkey(b"encrypt"))
    return nonce + aes.encrypt(nonce, plaintext.encode(), context.encode())


def decrypt(blob: bytes, context: str) -> str:
    aes = AESGCM(_subkey(b"encrypt"))
    return aes.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()


def blind_index(value: str, context: str) -> str:
    """Keyed hash for equality look-ups (hex, 64 chars)."""
    return hmac.new(
        _subkey(b"index:" + context.encode()), value.encode(), hashlib.sha256
    ).hexdigest()


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
