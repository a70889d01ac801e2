"""The contract the tests hold us to, found without the shared folder.

The shared copy beside the checkout (``../shared/contract/...``) when it is there, else the
copy the package ships (``localapi/openapi_seed.json``, the same bytes; the contract tests
check that). So the contract tests and the verbatim quickstarts run, never skip, in a bare
clone or a CI checkout.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "contract" / "simulacra-headless-api.openapi.json"
PACKAGED = REPO / "localapi" / "openapi_seed.json"
CONTRACT = SHARED if SHARED.is_file() else PACKAGED
