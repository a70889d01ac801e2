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
        return config

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
