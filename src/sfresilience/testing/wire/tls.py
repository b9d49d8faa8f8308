"""A throwaway certificate authority for serving HTTPS on loopback.

`ThrowawayCA()` makes a CA and a leaf certificate for `127.0.0.1`, `::1` and
`localhost` (as subject alternative names, which is what clients check), writes the
CA certificate to `ca_bundle` (a PEM file any client can be pointed at) and gives a
server-side `ssl.SSLContext`. Keys are P-256 (milliseconds to make) and never leave
the temporary directory, which is removed when the object is garbage-collected or
the interpreter exits.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


__all__ = ["ThrowawayCA"]

_VALID_FOR = dt.timedelta(days=2)
_HOSTS = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sfresilience fake org"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALID_FOR)
    )


def _ca(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = _name("sfresilience throwaway CA")
    return (
        _builder(name, name, key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    key: ec.EllipticCurvePrivateKey, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    names: list[x509.GeneralName] = [x509.DNSName(host) for host in _HOSTS]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in _ADDRESSES]
    return (
        _builder(_name("127.0.0.1"), ca.subject, key)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class ThrowawayCA:
    """A CA and a loopback server certificate, made now, in a private temp directory."""

    def __init__(self) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _ca(ca_key)
        leaf_key = ec.generate_private_key(ec.SECP256R1())
        leaf = _leaf(leaf_key, ca, ca_key)
        self._dir = Path(tempfile.mkdtemp(prefix="sfresilience-fake-ca-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        self.ca_bundle = self._dir / "ca.pem"
        """The CA certificate (PEM) a client trusts to verify the fake."""
        self.ca_bundle.write_bytes(_pem(ca))
        chain = self._dir / "server.pem"
        key_bytes = leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        chain.write_bytes(_pem(leaf) + _pem(ca) + key_bytes)
        chain.chmod(0o600)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain)
        self.server_context = context
        """The `ssl.SSLContext` a server wraps accepted connections with."""

    def remove(self) -> None:
        """Delete the files now (the context keeps working; `ca_bundle` is gone)."""
        self._cleanup()
