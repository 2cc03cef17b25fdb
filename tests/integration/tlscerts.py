#!/usr/bin/env python3
"""Throw-away CA and server certificates for the TLS integration tests.

Made with the `openssl` command line (OpenSSL 3.0, Debian 12), EC P-256 keys
(fast: the whole set takes well under a second). Nothing here is trusted by
the system store, which is the point of the "no --cafile" test.

    certs = tlscerts.make_certs(DIR)
    certs.ca                                # CA certificate (PEM), for --cafileN
    certs.good_cert, certs.good_key         # SAN DNS:localhost, IP:127.0.0.1
    certs.wrong_cert, certs.wrong_key       # SAN DNS:wrong.example only
    certs.expired_cert, certs.expired_key   # right names, validity 2020-01-01..2020-02-01

All server certificates are signed by the same CA and carry
extendedKeyUsage=serverAuth; only the names or the dates are wrong, so a
refusal can only come from the name or the date check.

CLI: python3 tlscerts.py DIR   (prints the file paths)
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

# validity of the expired certificate: entirely in the past
EXPIRED_START = "20200101000000Z"
EXPIRED_END = "20200201000000Z"
DAYS = 30  # CA and good/wrong certificates


@dataclass
class Certs:
    dir: str
    ca: str
    ca_key: str
    good_cert: str
    good_key: str
    wrong_cert: str
    wrong_key: str
    expired_cert: str
    expired_key: str


def _openssl(*args, cwd: str) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed (%d):\n%s%s"
                           % (" ".join(args), r.returncode, r.stdout, r.stderr))


_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]

_SERVER_EXT = """[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = {san}
"""

# Minimal `openssl ca` configuration: only used for the expired certificate,
# because `openssl x509 -req` cannot set a start date in the past.
_CA_CONF = """[ca]
default_ca = test_ca

[test_ca]
dir = {dir}
database = {dir}/ca-index.txt
new_certs_dir = {dir}/ca-newcerts
serial = {dir}/ca-serial
certificate = {dir}/ca.pem
private_key = {dir}/ca.key
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
commonName = supplied

""" + _SERVER_EXT


def _csr(d: str, name: str, cn: str) -> None:
    _openssl("req", "-new", *_KEY, "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", "/CN=" + cn, cwd=d)
    os.chmod(os.path.join(d, name + ".key"), 0o600)


def _sign(d: str, name: str, san: str) -> None:
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write(_SERVER_EXT.format(san=san))
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", str(DAYS), "-sha256",
             "-extfile", ext, "-extensions", "server_ext", "-out", name + ".pem", cwd=d)


def make_certs(d: str) -> Certs:
    """Create (or overwrite) the CA and the three server certificates in d."""
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    p = lambda f: os.path.join(d, f)  # noqa: E731

    # CA
    _openssl("req", "-x509", *_KEY, "-keyout", "ca.key", "-out", "ca.pem",
             "-days", str(DAYS), "-sha256", "-subj", "/CN=imapferry throw-away test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash", cwd=d)
    os.chmod(p("ca.key"), 0o600)

    # good: the names the tests connect to
    _csr(d, "good", "localhost")
    _sign(d, "good", "DNS:localhost,IP:127.0.0.1")

    # wrong: same CA, another host only (CN too, so no CN fallback can match)
    _csr(d, "wrong", "wrong.example")
    _sign(d, "wrong", "DNS:wrong.example")

    # expired: same CA, right names, validity entirely in the past
    _csr(d, "expired", "localhost")
    os.makedirs(p("ca-newcerts"), exist_ok=True)
    open(p("ca-index.txt"), "w").close()
    with open(p("ca-serial"), "w") as f:
        f.write("1000\n")
    with open(p("ca.cnf"), "w") as f:
        f.write(_CA_CONF.format(dir=d, san="DNS:localhost,IP:127.0.0.1"))
    _openssl("ca", "-batch", "-config", "ca.cnf", "-notext", "-in", "expired.csr",
             "-out", "expired.pem", "-startdate", EXPIRED_START, "-enddate", EXPIRED_END,
             "-extensions", "server_ext", cwd=d)

    # Dovecot's config process (root) reads the keys; the CA file must be
    # readable by whoever runs imapferry
    for f in ("ca.pem", "good.pem", "wrong.pem", "expired.pem"):
        os.chmod(p(f), 0o644)
    return Certs(dir=d, ca=p("ca.pem"), ca_key=p("ca.key"),
                 good_cert=p("good.pem"), good_key=p("good.key"),
                 wrong_cert=p("wrong.pem"), wrong_key=p("wrong.key"),
                 expired_cert=p("expired.pem"), expired_key=p("expired.key"))


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: tlscerts.py DIR", file=sys.stderr)
        return 2
    c = make_certs(argv[0])
    for k, v in vars(c).items():
        print("%s=%s" % (k, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
