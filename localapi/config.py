"""Server configuration: defaults, then ``SIMIO_*`` environment variables, then overrides.

Every setting has one name; the environment variable is ``SIMIO_`` + the upper-case name
(``SIMIO_DATA_DIR``, ``SIMIO_APPROVAL``, ...). ``create_app(config)`` takes a mapping of
overrides (tests pass a temporary data dir and an injected clock).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

HOUR = 3600
DAY = 24 * HOUR


@dataclass
class Config:
    data_dir: str = "simio-data"
    host: str = "127.0.0.1"
    port: int = 8080
    # The audience and token lifetime existing Simulacra clients expect; issuer is ours.
    audience: str = "https://api.simulacra-data.com"
    issuer: str = "simio-local"
    token_ttl_seconds: int = DAY
    approval: str = ""                       # auto | manual; "" = auto on loopback only
    dev: bool = False                        # requests without a token act as a dev tenant
    dataset_ttl_seconds: int = DAY           # contract default retention
    generation_ttl_seconds: int = DAY
    extend_cap_seconds: int = 7 * DAY        # maximum continuous dataset retention
    download_url_ttl_seconds: int = 15 * 60  # managed artifact URLs
    claim_ttl_seconds: int = 7 * DAY         # one-time credential claim tokens
    max_upload_bytes: int = 500 * 1024 * 1024
    per_request_row_cap: int = 1_000_000
    default_row_quota: int = 100_000_000     # lifetime rows per tenant unless set by operator
    workers: int = 2                         # job threads (training, generation)
    max_wait_seconds: int = 60
    max_waiters: int = 8                     # requests in a wait_seconds wait at once
    csv_formula_guard: str = "all"           # all | non_numeric (engine.io.writers)
    public_url: str = ""                     # base of every URL we hand out; "" = bind address
    signup_per_ip: int = 30                  # POST /v1/signup per hour (localapi.ratelimit)
    signup_global: int = 300
    token_per_ip: int = 60                   # token + claim requests per minute
    token_global: int = 600
    dask_address: str = ""                   # generation jobs on a Dask cluster ("" = here)
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls, overrides: dict | None = None, environ=os.environ) -> "Config":
        values = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = environ.get("SIMIO_" + f.name.upper())
            if raw is not None:
                values[f.name] = _coerce(f.type, raw)
        config = cls(**values)
        for key, value in (overrides or {}).items():
            if key.lower() in {f.name for f in fields(cls)}:
                setattr(config, key.lower(), value)
            else:
                config.extra[key] = value
        if not config.approval:
            config.approval = "auto" if is_loopback(config.host) else "manual"
        if config.approval not in ("auto", "manual"):
            raise ValueError("approval must be 'auto' or 'manual'")
        config.public_url = check_public_url(config.public_url)
        if config.csv_formula_guard not in ("all", "non_numeric"):
            raise ValueError("csv_formula_guard must be 'all' or 'non_numeric'")
        return config

    def base_url(self) -> str:
        """Where clients reach this server: ``public_url``, else from the bind address
        (never from a request's Host header, which the client controls)."""
        return self.public_url or default_public_url(self.host, self.port, tls=False)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


def _coerce(kind, raw: str):
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "int":
        return int(raw)
    if kind == "bool":
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_public_url(host: str, port, tls: bool) -> str:
    """The URL a client on this machine uses: a wildcard bind address means loopback."""
    host = host.strip("[]")
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def check_public_url(url: str) -> str:
    """``SIMIO_PUBLIC_URL``: an absolute http(s) URL without query or fragment."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query \
            or parts.fragment:
        raise ValueError(f"public_url must be an http:// or https:// URL without query or "
                         f"fragment, e.g. https://simio.example.com; got {url!r}")
    return url.strip().rstrip("/")
