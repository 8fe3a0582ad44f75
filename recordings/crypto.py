"""Encryption of recordings at rest: AES-256-GCM, one random nonce per file, the call's linkedid as
associated data (a file moved to another call's name does not decrypt). File layout:
``HLREC1`` + 2 zero bytes, 12-byte nonce, ciphertext with its 16-byte tag."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"HLREC1\x00\x00"
NONCE = 12


class BadKeyError(ValueError):
    """The configured key is not base64 of 32 bytes."""


class DecryptError(Exception):
    """The file is not ours, was altered, or the key is wrong."""


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), altchars=b"-_" if ("-" in text or "_" in text) else None)
    except (binascii.Error, ValueError) as exc:
        raise BadKeyError("HOTLINE_RECORDINGS_KEY must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise BadKeyError(f"HOTLINE_RECORDINGS_KEY must be 32 bytes (AES-256), got {len(key)}")
    return key


class RecordingCipher:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def encrypt(self, data: bytes, linkedid: str) -> bytes:
        nonce = os.urandom(NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, linkedid.encode())

    def decrypt(self, blob: bytes, linkedid: str) -> bytes:
        if not blob.startswith(MAGIC):
            raise DecryptError("not an encrypted recording")
        nonce = blob[len(MAGIC) : len(MAGIC) + NONCE]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE :], linkedid.encode())
        except InvalidTag as exc:
            raise DecryptError("the recording does not decrypt: altered, or another key") from exc
