"""The local CA + server certificate of `simio serve --tls` (localapi.tls), on real files.

Chains are checked with cryptography's RFC 5280 verifier (strict: the same rules modern
TLS stacks apply), so a certificate that only looks right fails here.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from localapi import tls

# cryptography >= 42 (the pinned minimum is 41, whose users then skip these checks)
verification = pytest.importorskip("cryptography.x509.verification")
PolicyBuilder, Store = verification.PolicyBuilder, verification.Store

NOW = dt.datetime.now(dt.timezone.utc)


def chain(pair):
    leaf, ca = x509.load_pem_x509_certificates(pair.cert_path.read_bytes())
    assert ca == tls.load_certificate(pair.ca_path)
    return leaf, ca


def verify(ca, leaf, name: str):
    try:
        subject = x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        subject = x509.DNSName(name)
    return PolicyBuilder().store(Store([ca])).build_server_verifier(subject).verify(leaf, [])


def test_first_start_makes_a_ca_and_a_leaf_the_second_reuses_both(tmp_path):
    first = tls.ensure_local_ca(tmp_path / "tls")
    assert first.created and first.ca_created and not first.replaced_self_signed
    leaf, ca = chain(first)
    for name in ("localhost", "127.0.0.1", "::1"):
        verify(ca, leaf, name)
    assert first.fingerprint == tls.fingerprint(ca)
    again = tls.ensure_local_ca(tmp_path / "tls")
    assert not again.created and not again.ca_created
    assert again.cert_path.read_bytes() == first.cert_path.read_bytes()
    if os.name == "posix":
        assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700
        for name in (tls.KEY_NAME, tls.CA_KEY_NAME):
            assert (tmp_path / "tls" / name).stat().st_mode & 0o777 == 0o600


def test_the_ca_is_scoped_no_subca_server_auth_only_bound_names_only(tmp_path):
    pair = tls.ensure_local_ca(tmp_path)
    leaf, ca = chain(pair)
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and (basic.value.ca, basic.value.path_length) == (True, 0)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    permitted = ca.extensions.get_extension_for_class(x509.NameConstraints).value
    assert set(permitted.permitted_subtrees) == {
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")),
        x509.IPAddress(ipaddress.ip_network("::1/128")), x509.IPAddress(
            ipaddress.ip_network("127.0.0.1/32"))}
    # A certificate the CA key signs for any other name is refused by a verifier.
    ca_key = serialization.load_pem_private_key((tmp_path / tls.CA_KEY_NAME).read_bytes(), None)
    rogue = tls.build_leaf(ec.generate_private_key(ec.SECP256R1()), ca, ca_key, NOW,
                           ("bank.example",), ())
    with pytest.raises(verification.VerificationError, match="name constraint"):
        verify(ca, rogue, "bank.example")
    ca_from, ca_to = tls._validity(ca)
    assert dt.timedelta(days=3000) < ca_to - ca_from < dt.timedelta(days=4000)
    leaf_from, leaf_to = tls._validity(leaf)
    assert leaf_to - leaf_from <= tls.VALIDITY + dt.timedelta(minutes=5)


def test_a_leaf_near_expiry_is_reissued_by_the_same_ca(tmp_path):
    old = tls.ensure_local_ca(tmp_path, now=NOW - tls.VALIDITY + dt.timedelta(days=10))
    renewed = tls.ensure_local_ca(tmp_path)          # 10 days left < RENEW_BEFORE
    assert renewed.created and not renewed.ca_created
    assert renewed.fingerprint == old.fingerprint    # clients keep trusting the CA
    leaf, ca = chain(renewed)
    verify(ca, leaf, "localhost")
    assert not tls.ensure_local_ca(tmp_path).created


def test_a_ca_near_expiry_is_replaced(tmp_path):
    old = tls.ensure_local_ca(tmp_path, now=NOW - tls.CA_VALIDITY + dt.timedelta(days=10))
    renewed = tls.ensure_local_ca(tmp_path)
    assert renewed.ca_created and renewed.fingerprint != old.fingerprint


def test_a_new_host_gets_its_san_and_a_ca_that_permits_it(tmp_path):
    loopback = tls.ensure_local_ca(tmp_path)
    lan = tls.ensure_local_ca(tmp_path, "192.0.2.10")
    assert lan.ca_created and lan.fingerprint != loopback.fingerprint   # trust it again
    leaf, ca = chain(lan)
    verify(ca, leaf, "192.0.2.10")
    leaf, ca = chain(tls.ensure_local_ca(tmp_path, "simio.example"))
    verify(ca, leaf, "simio.example")
    same = tls.ensure_local_ca(tmp_path, "simio.example")
    assert not same.created and not same.ca_created
    back = tls.ensure_local_ca(tmp_path)             # loopback is always permitted
    assert not back.ca_created and not back.created


def write_old_style_cert(directory):
    """cert.pem + key.pem as simio-local wrote them before the local CA (no ca.pem)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "simio-local self-signed")])
    old = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(1)
           .not_valid_before(NOW - dt.timedelta(days=1))
           .not_valid_after(NOW + dt.timedelta(days=300))
           .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]),
                          critical=False)
           .sign(key, hashes.SHA256()))
    (directory / tls.CERT_NAME).write_bytes(old.public_bytes(serialization.Encoding.PEM))
    (directory / tls.KEY_NAME).write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return old


def test_an_old_style_self_signed_certificate_is_replaced(tmp_path):
    write_old_style_cert(tmp_path)
    pair = tls.ensure_local_ca(tmp_path)
    assert pair.replaced_self_signed and pair.ca_created and pair.created
    leaf, ca = chain(pair)
    assert leaf.issuer == ca.subject != leaf.subject
    verify(ca, leaf, "127.0.0.1")


def test_the_banner_says_the_old_certificate_was_replaced(tmp_path):
    from localapi import server

    write_old_style_cert(tmp_path / "tls")
    lines = server.banner(server.plan({"data_dir": str(tmp_path)}, tls=True, environ={}))
    state = next(line for line in lines if line.startswith("tls: "))
    assert state.startswith("tls: local CA generated, replacing the old self-signed "
                            "certificate: trust the CA again")
    again = server.banner(server.plan({"data_dir": str(tmp_path)}, tls=True, environ={}))
    assert next(line for line in again if line.startswith("tls: ")).startswith(
        "tls: local CA reused (SHA256:")
    assert f"trust: simio tls trust --data-dir {tmp_path.resolve()}" in "\n".join(again)


def test_unreadable_or_mismatched_files_are_regenerated(tmp_path):
    first = tls.ensure_local_ca(tmp_path)
    (tmp_path / tls.CA_CERT_NAME).write_text("not a certificate")
    second = tls.ensure_local_ca(tmp_path)
    assert second.ca_created and second.fingerprint != first.fingerprint
    (tmp_path / tls.KEY_NAME).write_bytes((tmp_path / tls.CA_KEY_NAME).read_bytes())
    third = tls.ensure_local_ca(tmp_path)            # leaf key no longer matches its cert
    assert third.created and not third.ca_created
    leaf, ca = chain(third)
    verify(ca, leaf, "localhost")


def test_check_pair_names_the_problem(tmp_path):
    pair = tls.ensure_local_ca(tmp_path)
    tls.check_pair(pair.cert_path, pair.key_path)
    with pytest.raises(ValueError, match="does not match"):
        tls.check_pair(pair.cert_path, tmp_path / tls.CA_KEY_NAME)
    with pytest.raises(ValueError, match="does not exist"):
        tls.check_pair(tmp_path / "nope.pem", pair.key_path)
