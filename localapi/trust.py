"""How to make clients trust simio's local CA: system-store steps and per-client settings.

``simio tls trust`` (``localapi.cli_tls``) prints these and, with ``--apply`` /
``--remove``, runs the system-store commands for the running platform. The commands are
argv lists so that what is printed is exactly what ``--apply`` runs.

Anchors are named after the CA's id (``simio-local CA <id>``, one per data directory and
stable across CA renewals): ``--apply`` after a renewal replaces the old anchor, and
``--remove`` takes out exactly this data directory's CA, leaving every other one alone.

Only the Debian/Ubuntu steps are exercised by the test suite (as root, in CI); the
RHEL/Fedora, macOS and Windows commands are the vendors' documented ones.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path


PLATFORMS = ("debian", "rhel", "macos", "windows")
DEBIAN_ANCHORS = Path("/usr/local/share/ca-certificates")
DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
RHEL_ANCHORS = Path("/etc/pki/ca-trust/source/anchors")
RHEL_BUNDLE = "/etc/pki/tls/certs/ca-bundle.crt"
MACOS_KEYCHAIN = "/Library/Keychains/System.keychain"


@dataclass(frozen=True)
class CA:
    path: Path
    common_name: str
    fingerprint: str

    @property
    def anchor_stem(self) -> str:
        """The file name (without extension) the CA gets in a trust-store directory."""
        return re.sub(r"[^a-z0-9]+", "-", self.common_name.lower()).strip("-")


def load_ca(path: str | os.PathLike) -> CA:
    """The CA certificate at ``path``; ValueError (one-line message) if it is not one."""
    # cryptography costs ~0.1-0.3 s to import: loaded here, not by every `simio` command
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from localapi import tls

    path = Path(path).resolve()
    try:
        cert = tls.load_certificate(path)
    except OSError:
        raise ValueError(f"there is no CA certificate at {path}") from None
    except ValueError:
        raise ValueError(f"{path} is not a PEM certificate") from None
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is None or not basic.ca:
        raise ValueError(f"{path} is not a CA certificate (no basicConstraints CA:TRUE): "
                         f"trust the CA that issued it instead")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = str(names[0].value) if names else tls.fingerprint(cert)[7:30]
    return CA(path, common_name, tls.fingerprint(cert))


def detect_platform() -> str | None:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    ids = _os_release_ids()
    if ids & {"debian", "ubuntu"}:
        return "debian"
    if ids & {"rhel", "fedora", "centos"}:
        return "rhel"
    if shutil.which("update-ca-certificates"):
        return "debian"
    if shutil.which("update-ca-trust"):
        return "rhel"
    return None


def install_steps(platform: str, ca: CA) -> list[list[str]]:
    """The commands that add ``ca`` to ``platform``'s system trust store (replacing an
    older anchor of the same data directory)."""
    if platform == "debian":
        return [["install", "-m", "0644", str(ca.path), str(DEBIAN_ANCHORS /
                                                          f"{ca.anchor_stem}.crt")],
                ["update-ca-certificates"]]
    if platform == "rhel":
        return [["install", "-m", "0644", str(ca.path), str(RHEL_ANCHORS /
                                                          f"{ca.anchor_stem}.pem")],
                ["update-ca-trust", "extract"]]
    if platform == "macos":
        return [["security", "add-trusted-cert", "-d", "-r", "trustRoot", "-p", "ssl",
                 "-k", MACOS_KEYCHAIN, str(ca.path)]]
    if platform == "windows":
        return [["certutil", "-addstore", "-f", "Root", str(ca.path)]]
    raise ValueError(f"unknown platform {platform!r}")


def remove_steps(platform: str, ca: CA) -> list[list[str]]:
    """The commands that take ``ca`` (by its anchor name / common name) out again."""
    if platform == "debian":
        # --fresh: without it the /etc/ssl/certs links to the removed file stay behind
        return [["rm", "-f", str(DEBIAN_ANCHORS / f"{ca.anchor_stem}.crt")],
                ["update-ca-certificates", "--fresh"]]
    if platform == "rhel":
        return [["rm", "-f", str(RHEL_ANCHORS / f"{ca.anchor_stem}.pem")],
                ["update-ca-trust", "extract"]]
    if platform == "macos":
        return [["security", "delete-certificate", "-t", "-c", ca.common_name,
                 MACOS_KEYCHAIN]]
    if platform == "windows":
        return [["certutil", "-delstore", "Root", ca.common_name]]
    raise ValueError(f"unknown platform {platform!r}")


def has_rights(platform: str) -> bool:
    """Whether this process may change the system store (root; Windows: try it)."""
    if platform == "windows" or not hasattr(os, "geteuid"):
        return True                 # certutil itself refuses without elevation
    return os.geteuid() == 0


def missing_tools(steps: list[list[str]]) -> list[str]:
    return [argv[0] for argv in steps if shutil.which(argv[0]) is None]


def render(platform: str, ca: CA, *, current: bool, args: str = "") -> str:
    """Everything a user reads: what trusting means, the system store, every client.
    ``args`` are the options to repeat in the printed ``simio tls trust`` commands."""
    path = _quote_for(platform)(str(ca.path))
    sudo = "" if platform == "windows" else "sudo "
    system_bundle = {"debian": DEBIAN_BUNDLE, "rhel": RHEL_BUNDLE}.get(platform)
    out = [
        f"CA: {ca.path}",
        f"    {ca.common_name} ({ca.fingerprint})",
        "Trusting it lets this machine's clients accept the certificates this CA signs. It",
        "is scoped: it can sign only server certificates (no sub-CAs) for the names simio",
        "was bound to (localhost, loopback addresses, the --host given), and its key stays",
        "in the data directory (mode 0600). Anyone who can read that key can impersonate",
        "those names to you, so keep the data directory private; undo with --remove.",
        "",
        f"System trust store ({_TITLES[platform]}{', this machine' if current else ''}), "
        f"{'as administrator' if platform == 'windows' else 'as root'}:",
    ]
    out += [f"  {_join(argv, platform)}" for argv in install_steps(platform, ca)]
    out.append(f"  (or: {sudo}simio tls trust --apply{args}")
    out.append(f"   undo: {sudo}simio tls trust --remove{args},")
    out.append("   which runs:")
    out += [f"     {_join(argv, platform)}" for argv in remove_steps(platform, ca)]
    out.append("   )")
    if platform == "windows":
        out.append("  Without administrator rights, for your user only: "
                   f"certutil -user -addstore Root {path}")
    out += ["", "Clients:"]
    out += _client_lines(platform, str(ca.path), system_bundle)
    return "\n".join(out) + "\n"


def _client_lines(platform: str, raw: str, system_bundle: str | None) -> list[str]:
    setenv = _setenv(platform)
    path = _quote_for(platform)(raw)
    lines = [
        "  Python requests (own CA list, not the system store):",
        f"    {setenv('REQUESTS_CA_BUNDLE', path)}",
    ]
    if system_bundle:
        lines.append("    or, after the system-store step, to keep the public CAs too:")
        lines.append(f"    {setenv('REQUESTS_CA_BUNDLE', system_bundle)}")
    lines += [
        "  curl (the command line):",
        f"    curl --cacert {path} ...   or   {setenv('CURL_CA_BUNDLE', path)}",
        "    (curl on Linux and macOS also reads the system store after the step above)",
        "  R (httr2 / curl package):",
    ]
    if platform == "windows":
        lines += [
            "    the curl package uses the Windows store by default: the system step above",
            "    (the -user variant is enough), or in ~/.Renviron:",
            f"      CURL_SSL_BACKEND=openssl and CURL_CA_BUNDLE={path}",
        ]
    else:
        lines += [
            "    the curl package ignores CURL_CA_BUNDLE and SSL_CERT_FILE here (it honours",
            "    CURL_CA_BUNDLE on Windows only): use the system step above, which the",
            "    contract's R quickstart needs unchanged (there is no global R option for",
            "    it in curl 5 / httr2); or per request in your own code:",
            f"      req |> httr2::req_options(cainfo = {_r_string(raw)})",
            f"      curl::handle_setopt(handle, cainfo = {_r_string(raw)})",
        ]
    lines += [
        "  Julia (HTTP.jl, Downloads; NetworkOptions):",
        f"    {setenv('JULIA_SSL_CA_ROOTS_PATH', path)}",
    ]
    if platform in ("debian", "rhel"):
        lines.append("    (Julia on Linux reads the system bundle by default: the system step "
                     "also works)")
    lines += [
        "  SPSS: the contract's SPSS wrapper uses curl (see curl above). SPSS Statistics'",
        "  own Python (BEGIN PROGRAM PYTHON3) uses requests: set REQUESTS_CA_BUNDLE in the",
        "  environment SPSS starts from, or first thing in the program:",
        f"    import os; os.environ[\"REQUESTS_CA_BUNDLE\"] = {_py_string(raw)}",
        "  Setting a CA_BUNDLE / ROOTS_PATH variable to this file trusts only this CA in that",
        "  process, which is what the quickstarts need.",
    ]
    return lines


_TITLES = {"debian": "Debian/Ubuntu", "rhel": "RHEL/Fedora", "macos": "macOS",
           "windows": "Windows"}


def _quote_for(platform: str):
    if platform == "windows":
        return lambda s: f'"{s}"' if " " in s else s
    return shlex.quote


def _join(argv: list[str], platform: str) -> str:
    return " ".join(map(_quote_for(platform), argv))


def _setenv(platform: str):
    if platform == "windows":
        return lambda name, value: f"setx {name} {value}"
    return lambda name, value: f"export {name}={value}"


def _r_string(path: str) -> str:
    return '"' + path.replace("\\", "/").replace('"', '\\"') + '"'


def _py_string(path: str) -> str:
    return repr(path)


def _os_release_ids() -> set[str]:
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return set()
    ids: set[str] = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids |= set(value.strip().strip('"').lower().split())
    return ids
