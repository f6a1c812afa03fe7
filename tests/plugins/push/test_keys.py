"""Reading the VAPID key from the forms deployers keep it in."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from tidings_push.keys import application_server_key, load_private_key


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def scalar(key: ec.EllipticCurvePrivateKey) -> int:
    return key.private_numbers().private_value


@pytest.fixture
def key(vapid: Vapid) -> ec.EllipticCurvePrivateKey:
    private: ec.EllipticCurvePrivateKey = vapid.private_key
    return private


def test_pkcs8_pem_text_is_read(key: ec.EllipticCurvePrivateKey, vapid_pem: str) -> None:
    assert scalar(load_private_key(vapid_pem)) == scalar(key)


def test_sec1_pem_as_openssl_ecparam_writes_it_is_read(key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----")

    assert scalar(load_private_key(pem)) == scalar(key)


def test_the_base64url_private_scalar_is_read(key: ec.EllipticCurvePrivateKey) -> None:
    raw = b64url(scalar(key).to_bytes(32, "big"))

    assert len(raw) == 43
    assert scalar(load_private_key(raw)) == scalar(key)


def test_base64url_der_is_read(key: ec.EllipticCurvePrivateKey) -> None:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())

    assert scalar(load_private_key(b64url(der))) == scalar(key)


def test_the_path_of_a_pem_file_is_read(key: ec.EllipticCurvePrivateKey, vapid_pem: str, tmp_path: Path) -> None:
    path = tmp_path / "vapid_private.pem"
    path.write_text(vapid_pem)

    assert scalar(load_private_key(str(path))) == scalar(key)


def test_a_path_that_is_no_file_is_named_in_the_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.pem")

    with pytest.raises(ValueError, match="is not a file") as error:
        load_private_key(missing)
    assert repr(missing) in str(error.value)


def test_a_file_without_a_key_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.pem"
    path.write_text("not a key")

    with pytest.raises(ValueError, match="holds no key"):
        load_private_key(str(path))


def test_an_inline_value_that_is_no_key_is_refused_without_repeating_it() -> None:
    secret = "c29tZXRoaW5nIHNlY3JldCBidXQgbm90IGEga2V5"

    with pytest.raises(ValueError, match="is not a VAPID key") as error:
        load_private_key(secret)
    assert secret not in str(error.value)


def test_a_key_on_another_curve_is_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

    with pytest.raises(ValueError, match="secp384r1 key: VAPID needs an elliptic-curve P-256"):
        load_private_key(p384)


def test_the_application_server_key_is_the_public_point_browsers_subscribe_with(key: ec.EllipticCurvePrivateKey) -> None:
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    assert application_server_key(key) == b64url(point)
    assert len(application_server_key(key)) == 87
