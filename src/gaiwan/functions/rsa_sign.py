"""builtin-rsa-sign: signs the `data` argument with the RSA key given as input `rsa_key`.

The key is DER (PKCS#1 `RSAPrivateKey`, as Teaclave takes it, or PKCS#8). The result is the
base64 RSA PKCS#1 v1.5 signature over SHA-256 of the UTF-8 `data`; PKCS#1 v1.5 is deterministic,
so a given key and data always give the same signature.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_der_private_key

from ..executors._base import FunctionError
from ._api import FunctionCall

NAME = "builtin-rsa-sign"


def run(call: FunctionCall) -> str:
    data = call.argument("data")
    with call.input("rsa_key") as stream:
        der = stream.read()
    try:
        key = load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise FunctionError("input rsa_key is not an unencrypted DER private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise FunctionError("input rsa_key is not an RSA key")
    signature = key.sign(data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")
