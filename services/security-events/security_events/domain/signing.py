"""Signing keys and the JWS form of a SET (RFC 8417 §2, RFC 7515), and the JWKS receivers verify with.

ES256 by default, RS256 where a receiver needs it. Each key has a `kid` that the JWS header names, so a
receiver picks the right key during a rotation, when the old and the new key are both published.
The SET's `typ` header is `secevent+jwt` (RFC 8417 §2.3).
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from security_events.errors import InvalidRequest

ALGORITHMS = ("ES256", "RS256")
SET_TYPE = "secevent+jwt"


class UnsupportedAlgorithm(InvalidRequest):
    pass


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private_pem: bytes

    @functools.cached_property
    def _private(self) -> Any:
        # Parsed once per key: loading the PEM cost as much as signing, on every SET.
        return serialization.load_pem_private_key(self.private_pem, password=None)

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (RFC 7517 §4), with `kid`, `alg` and `use: sig`."""
        public = self._private.public_key()
        algo = ECAlgorithm if self.alg == "ES256" else RSAAlgorithm
        jwk: dict[str, Any] = json.loads(algo.to_jwk(public))
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._private, algorithm=self.alg, headers={"kid": self.kid, "typ": SET_TYPE}
        )


def generate(alg: str = "ES256") -> SigningKey:
    if alg == "ES256":
        private: Any = ec.generate_private_key(ec.SECP256R1())
    elif alg == "RS256":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise UnsupportedAlgorithm(
            f"unsupported signing algorithm {alg!r}; use one of {', '.join(ALGORITHMS)}"
        )
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return SigningKey(kid=uuid.uuid4().hex, alg=alg, private_pem=pem)


def jwks(keys: list[SigningKey]) -> dict[str, Any]:
    """A JWK Set (RFC 7517 §5) of every key a receiver may still see in a SET."""
    return {"keys": [k.public_jwk() for k in keys]}
