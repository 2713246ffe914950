"""WeCom (企业微信) callback crypto, as the callback specification ("加解密方案说明") defines it.

Every callback carries `msg_signature`, `timestamp` and `nonce`; the payload is `Encrypt`,
AES-256-CBC over `random(16) + len(msg) as 4 bytes big-endian + msg + receiveid` with the key
`base64(EncodingAESKey + "=")`, IV the key's first 16 bytes and PKCS#7 padding to 32 bytes.
The signature is sha1 over the sorted strings token, timestamp, nonce and the ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeCom pads to 32 bytes, not AES's 16


class WeComCryptoError(Exception):
    """The callback is not authentic or not decryptable; the caller answers 403."""


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()


class WeComCrypto:
    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        if len(encoding_aes_key) != 43:
            raise ValueError("WENDU_WECOM_AES_KEY must be the 43-character EncodingAESKey")
        try:
            self.key = base64.b64decode(encoding_aes_key + "=")
        except binascii.Error as err:
            raise ValueError(f"WENDU_WECOM_AES_KEY is not base64: {err}") from None
        self.token = token
        self.receive_id = receive_id

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, random16: bytes | None = None) -> str:
        raw = message.encode()
        plain = (random16 or os.urandom(16)) + struct.pack(">I", len(raw)) + raw
        plain += self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        enc = self._cipher().encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def decrypt(self, encrypt: str) -> str:
        try:
            data = base64.b64decode(encrypt, validate=True)
        except binascii.Error:
            raise WeComCryptoError("Encrypt is not base64") from None
        if not data or len(data) % 16:
            raise WeComCryptoError("Encrypt has a length that is no AES block multiple")
        dec = self._cipher().decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise WeComCryptoError("bad padding: wrong EncodingAESKey?")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise WeComCryptoError("decrypted message too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise WeComCryptoError("decrypted message shorter than its length field")
        # A message for another corp (or app) encrypted with a leaked key is not ours.
        if receive_id.decode(errors="replace") != self.receive_id:
            raise WeComCryptoError("message is for another receiver (corp id)")
        return message.decode()

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt)

    def verify(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> None:
        expected = self.sign(timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected, msg_signature or ""):
            raise WeComCryptoError("msg_signature does not match")

    def open(self, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> str:
        """Verify, then decrypt: the plaintext of an authentic callback."""
        self.verify(msg_signature, timestamp, nonce, encrypt)
        return self.decrypt(encrypt)
