"""Acceptance: the contract's R quickstart, verbatim, against `simio serve --tls`.

R's curl package reads no CA environment variable on Linux (it ignores the banner's
CURL_CA_BUNDLE / SSL_CERT_FILE), so the local CA is trusted the way `simio tls trust`
tells Debian users to: `simio tls trust --apply`, as root, changes the system store; the
fixture runs `--remove` afterwards, also when the test fails, so the machine is left as it
was. Only the environment of the R process names the server (SIMIO_* variables).

Debian has no `arrow` R package, so the test installs a minimal local package called
`arrow` whose only function, `read_parquet`, has pyarrow convert the Parquet file to CSV
and reads that with `read.csv`. It is used only by the quickstart's last step, which reads
the downloaded file; everything that talks to the server runs verbatim.

A second test checks the R advice `simio tls trust` prints: the CA variables are ignored,
`httr2::req_options(cainfo = )` works (no root needed).

Skipped (with the reason shown by `pytest -ra`) when Rscript or httr2 is missing; the
quickstart also when not root or not on Debian/Ubuntu (tests.e2e.trust_store.SKIP_REASON).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.contract_code import CONTRACT, quickstart
from tests.e2e.server import running_server
from tests.e2e.test_quickstarts import assert_contract_scenario, client_env, credentials
from tests.e2e.trust_store import SKIP_REASON, system_trust

RSCRIPT = shutil.which("Rscript")


def _has_r_package(name: str) -> bool:
    if RSCRIPT is None:
        return False
    probe = subprocess.run([RSCRIPT, "-e", f"quit(status = !requireNamespace('{name}', "
                                           f"quietly = TRUE))"],
                           capture_output=True, timeout=120)
    return probe.returncode == 0


pytestmark = [
    pytest.mark.skipif(not CONTRACT.exists(), reason="contract file not available"),
    pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed (Debian: apt-get "
                                               "install r-base-core r-cran-httr2 r-cran-jsonlite)"),
    pytest.mark.skipif(not _has_r_package("httr2"), reason="the R package httr2 is not "
                                                           "installed (Debian: r-cran-httr2)"),
    # httr2 only recommends jsonlite, but its JSON request and response bodies need it
    pytest.mark.skipif(not _has_r_package("jsonlite"), reason="the R package jsonlite is not "
                                                              "installed (Debian: "
                                                              "r-cran-jsonlite)"),
]

ARROW_SHIM = """\
# Test stand-in for the arrow package (Debian has none): Parquet via the test's pyarrow.
read_parquet <- function(file, ...) {
  csv <- tempfile(fileext = ".csv")
  code <- paste("import sys, pyarrow.parquet as pq, pyarrow.csv as pc;",
                "pc.write_csv(pq.read_table(sys.argv[1]), sys.argv[2])")
  # R prepends its own LD_LIBRARY_PATH, which can load another libpython: restore the test's.
  status <- system2(Sys.getenv("ARROW_SHIM_PYTHON"), c("-c", shQuote(code), shQuote(file),
                                                       shQuote(csv)),
                    env = paste0("LD_LIBRARY_PATH=", shQuote(Sys.getenv("ARROW_SHIM_LD_PATH"))))
  if (status != 0) stop("arrow shim: pyarrow could not read ", file)
  utils::read.csv(csv)
}
"""


def install_arrow_shim(library: Path) -> None:
    source = library.parent / "arrow-shim"
    (source / "R").mkdir(parents=True)
    (source / "DESCRIPTION").write_text(
        "Package: arrow\nVersion: 0.0.0.9000\nTitle: Test Stand-in Reading Parquet via "
        "Pyarrow\nDescription: Only read_parquet(), for the simio-local test suite.\n"
        "License: MIT\nAuthor: simio-local tests\nMaintainer: simio-local "
        "<tests@simio.invalid>\n", encoding="utf-8")
    (source / "NAMESPACE").write_text("export(read_parquet)\n", encoding="utf-8")
    (source / "R" / "read_parquet.R").write_text(ARROW_SHIM, encoding="utf-8")
    library.mkdir(parents=True)
    done = subprocess.run(["R", "CMD", "INSTALL", "--no-docs", "--no-multiarch",
                           f"--library={library}", str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def trusted_server(tmp_path):
    """`simio serve --tls` whose CA `simio tls trust --apply` put in the system store."""
    with running_server(tmp_path / "server", tls=True) as server, system_trust(server):
        yield server


R_HEALTHZ = """\
library(httr2)
req <- request(paste0(Sys.getenv("SIMIO_API_BASE"), "/healthz"))
if (nzchar(Sys.getenv("CAINFO"))) req <- req_options(req, cainfo = Sys.getenv("CAINFO"))
resp <- tryCatch(req_perform(req), error = function(e) e)
cat(if (inherits(resp, "error")) conditionMessage(resp) else resp_status(resp), "\\n")
"""


def test_r_ignores_the_ca_variables_but_honours_req_options_cainfo(tmp_path):
    """What `simio tls trust` tells R users on Linux, checked against the installed R."""
    script = tmp_path / "healthz.R"
    script.write_text(R_HEALTHZ, encoding="utf-8")
    with running_server(tmp_path / "server", tls=True) as server:
        def healthz(**env):
            run_env = {**os.environ, "SIMIO_API_BASE": server.base_url, **env}
            done = subprocess.run([RSCRIPT, str(script)], env=run_env, capture_output=True,
                                  text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            return done.stdout.strip()

        via_variables = healthz(CURL_CA_BUNDLE=server.ca_path, SSL_CERT_FILE=server.ca_path)
        assert "certificate" in via_variables, via_variables       # refused: not trusted
        assert healthz(CAINFO=server.ca_path) == "200"


@pytest.mark.slow
@pytest.mark.skipif(SKIP_REASON is not None, reason=str(SKIP_REASON))
def test_r_quickstart_verbatim(tmp_path, trusted_server):
    workdir = tmp_path / "client"
    workdir.mkdir()
    (workdir / "quickstart.R").write_text(quickstart("quickstart-r", "r"), encoding="utf-8")
    library = tmp_path / "r-library"
    install_arrow_shim(library)
    env = client_env(trusted_server, credentials(trusted_server))
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        env.pop(name, None)            # R ignores them anyway; prove the system store works
    env.update({"R_LIBS": str(library), "ARROW_SHIM_PYTHON": sys.executable,
                "ARROW_SHIM_LD_PATH": os.environ.get("LD_LIBRARY_PATH", "")})
    proc = subprocess.run([RSCRIPT, "quickstart.R"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "5000 rows" in proc.stdout, proc.stdout
    assert_contract_scenario(pd.read_parquet(workdir / "synthetic.parquet"))
