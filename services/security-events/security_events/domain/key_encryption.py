"""Private keys and receiver secrets encrypted at rest with AES-256-GCM.

The key-encryption key comes from a secret in the environment (never from the database), stretched with
HKDF-SHA256 so any long random string will do. The row's purpose is bound as associated data, so a
ciphertext copied into another row or column does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from security_events.errors import KeyEncryptionError

__all__ = ["KeyEncryptionError", "Sealer"]

_NONCE = 12


class Sealer:
    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise KeyEncryptionError("the key-encryption secret must be at least 16 characters")
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"scimsuite security-events kek"
        ).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, purpose.encode())

    def open(self, sealed: bytes, purpose: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], purpose.encode())
        except InvalidTag as exc:
            raise KeyEncryptionError(
                "cannot decrypt: wrong key-encryption secret, or a ciphertext from another row"
            ) from exc
