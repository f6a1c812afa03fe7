"""The VAPID key (RFC 8292): read from the forms deployers keep it in, and its public half.

The application server signs every push request with one P-256 key. Deployers have it as PEM
text (``vapid --gen`` of py-vapid, ``openssl ecparam -name prime256v1 -genkey``), as the path of
such a file, or as the base64url private scalar that the JavaScript ``web-push`` library prints
(43 characters). Browsers subscribe with the public half (`application_server_key`), and a push
service refuses requests signed by any other key, so both halves must come from the same place.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tidings_push.addresses import b64url_decode

RAW_KEY_LENGTH = 32
FORMS = "PEM text, a base64url P-256 private key, or the path of a file holding either"


def load_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key in `value`.

    Args:
        value: PEM text (PKCS#8 or SEC 1), a base64url key (the 32-octet private scalar, or DER),
            or the path of a file holding one of them.

    Raises:
        ValueError: naming the path when `value` is one, but never quoting an inline key,
            which is a secret.
    """
    text = value.strip()
    if not text:
        raise ValueError(f"is empty: use {FORMS}")
    inline = _parse(text)
    if inline is not None:
        return _p256(inline)
    path = Path(os.path.expanduser(text))
    if "\n" in text or not path.is_file():
        if _looks_like_path(text) and "\n" not in text:
            raise ValueError(f"{text!r} is not a file (give {FORMS})")
        raise ValueError(f"is not a VAPID key (the value is not repeated here: it is a secret); use {FORMS}")
    try:
        content = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"{text!r} cannot be read as a key file: {e}") from None
    from_file = _parse(content) if content else None
    if from_file is None:
        raise ValueError(f"the file {text!r} holds no key: it should hold a PEM or base64url P-256 private key")
    return _p256(from_file, where=f"the file {text!r}")


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public half of `key` as browsers take it in ``pushManager.subscribe({applicationServerKey})``.

    Returns:
        The uncompressed public point, base64url without padding (87 characters).
    """
    import base64

    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def _parse(text: str) -> object | None:
    """The key `text` holds, of any type, or None when `text` is no key at all."""
    if "-----BEGIN" in text:
        try:
            return serialization.load_pem_private_key(text.encode("ascii", "replace"), password=None)
        except (ValueError, TypeError):
            return None
    raw = b64url_decode(text)
    if raw is None:
        return None
    if len(raw) == RAW_KEY_LENGTH:
        try:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        except ValueError:
            return None   # zero, or not below the curve's order
    try:
        return serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError):
        return None


def _p256(key: object, *, where: str = "the key") -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        kind = f"a {key.curve.name} key" if isinstance(key, ec.EllipticCurvePrivateKey) else f"a {type(key).__name__}"
        raise ValueError(f"{where} is {kind}: VAPID needs an elliptic-curve P-256 (prime256v1) key")
    return key


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(("~", ".")) or text.endswith((".pem", ".key", ".der"))
