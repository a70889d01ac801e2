"""The interactive docs in a real headless Chromium, against `simio serve`, fully offline.

Chromium gets ``--host-resolver-rules`` that resolve nothing but 127.0.0.1, so a page that
needed a CDN (or any other host) would not render. Two levels:

- ``--dump-dom``: /docs and /__docs__/ render the contract's operations.
- DevTools protocol over ``--remote-debugging-pipe`` (stdlib only, no websocket client):
  the *Exchange credentials and fill HTTP Bearer* form mints a token at this server and
  fills HTTP Bearer; Try-It then succeeds on a protected route; the authorization
  survives a reload of the tab (sessionStorage) and never lands in localStorage;
  ``POST /v1/credential-rotations`` gets the tab's Idempotency-Key (a retry replays the
  same claim token); every request the page made went to this server.

Skipped when no Chromium binary is installed (Debian: ``apt-get install chromium``).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time

import pytest
import requests

from tests.e2e.server import running_server

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--disable-extensions", "--mute-audio",
    # Resolve no host but the server's: a page that needs the internet cannot render.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
WAIT = 60.0


def chromium() -> str:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium binary found (apt-get install chromium)")


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("docs-browser"), tls=False) as server:
        yield server


def test_contract_servers_is_the_url_the_server_announced(srv):
    """No browser needed: /openapi.json's servers is the banner's URL, so Try-It (and any
    generated client) calls this very server."""
    doc = srv.get("/openapi.json").json()
    assert doc["servers"][0]["url"] == srv.base_url
    assert f"{srv.base_url}/oauth/token" in \
        doc["components"]["securitySchemes"]["bearerAuth"]["description"]


def dump_dom(binary: str, url: str, profile) -> str:
    result = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("path", ["/docs", "/__docs__/"])
def test_docs_render_the_contract_offline(srv, tmp_path, path):
    dom = dump_dom(chromium(), srv.url(path), tmp_path / "profile")
    assert 'data-simio-docs="ready"' in dom, dom[-2000:]
    for text in ("Upload and train a seed dataset", "/v1/datasets",
                 "Get the inferred schema of a dataset", "/v1/credential-claims",
                 "Mint a bearer token", "/oauth/token",
                 "Exchange credentials and fill HTTP Bearer", "Authorize"):
        assert text in dom, text
    assert "Unable to render this definition" not in dom
    assert "Failed to load API definition" not in dom


def test_error_page_is_html_in_a_browser(srv, tmp_path):
    dom = dump_dom(chromium(), srv.url("/errors/simio_unknown_condition_column"),
                   tmp_path / "profile")
    assert "<dt>Cause</dt>" in dom and "/v1/datasets/{dataset_id}/schema" in dom


# -- DevTools protocol over a pipe -------------------------------------------------------

def _high_fd(fd: int) -> int:
    import fcntl

    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class DevTools:
    """Minimal CDP client on Chromium's ``--remote-debugging-pipe`` (fds 3 and 4)."""

    def __init__(self, binary: str, profile, log_path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Move the child's ends above 9 so that moving them onto 3 and 4 cannot collide.
        to_chrome_r, from_chrome_w = (_high_fd(to_chrome_r), _high_fd(from_chrome_w))
        self._log = open(log_path, "wb")
        # bash puts the pipe ends on fds 3 (commands in) and 4 (replies out), then execs.
        script = (f'exec 3<&{to_chrome_r} 4>&{from_chrome_w} {to_chrome_r}<&- '
                  f'{from_chrome_w}>&-; exec "$@"')
        self.process = subprocess.Popen(
            ["bash", "-c", script, "chromium", binary, *CHROMIUM_FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=self._log)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.events: list[dict] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.session = None

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        box = self._replies.get(message["id"])
                    if box is not None:
                        box.put(message)
                else:
                    self.events.append(message)

    def send(self, method: str, params: dict | None = None, *, session: bool = True,
             timeout: float = WAIT) -> dict:
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            box = self._replies[ident] = queue.Queue()
        message = {"id": ident, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        try:
            reply = box.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no reply to {method} in {timeout:.0f}s") from None
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def attach(self) -> None:
        targets = self.send("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": page["targetId"], "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")

    def evaluate(self, expression: str, timeout: float = WAIT):
        result = self.send("Runtime.evaluate", {
            "expression": f"(async () => {{ {expression} }})()", "awaitPromise": True,
            "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"still false after {timeout:.0f}s: {expression}")

    def open(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})
        self.wait_for("return document.readyState === 'complete' && "
                      "document.documentElement.getAttribute('data-simio-docs') === 'ready';")

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False, timeout=10)
        except Exception:  # already gone
            pass
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(15)
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()


# Run an operation as the Try-It "Execute" button does; resolves to the response's status.
TRY_IT = """
  const path = %s, method = %s;
  ui.specActions.clearResponse(path, method);
  const operation = ui.specSelectors.specJsonWithResolvedSubtrees()
                      .getIn(["paths", path, method]);
  ui.specActions.execute({path, method, operation});
  for (let i = 0; i < 300; i++) {
    const response = ui.specSelectors.responseFor(path, method);
    if (response && response.get("status") !== undefined) {
      // The request as sent: after the page's requestInterceptor.
      const request = ui.specSelectors.mutatedRequestFor(path, method) ||
                      ui.specSelectors.requestFor(path, method);
      return {status: response.get("status"), text: response.get("text"),
              headers: request ? request.get("headers").toJS() : {}};
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return null;
"""


def try_it(browser: DevTools, path: str, method: str) -> dict:
    result = browser.evaluate(TRY_IT % (json.dumps(path), json.dumps(method)), timeout=WAIT)
    assert result is not None, f"{method.upper()} {path}: no response within 30 s"
    return result


def new_credentials(srv) -> tuple[str, str]:
    signup = requests.post(srv.url("/v1/signup"), timeout=30, json={
        "company_name": "Docs Browser Test", "contact_email": "docs-browser@example.test"})
    assert signup.status_code in (200, 202), signup.text
    status = requests.get(srv.url(f"/v1/signup/{signup.json()['request_id']}"),
                          timeout=30).json()
    assert status["status"] == "approved", status
    claim = requests.post(srv.url("/v1/credential-claims"), timeout=30,
                          json={"claim_token": status["credential_claim_token"]})
    assert claim.status_code == 200, claim.text
    return claim.json()["client_id"], claim.json()["client_secret"]


@pytest.mark.skipif(os.name != "posix", reason="the DevTools pipe helper uses POSIX fds")
def test_exchange_form_authorizes_try_it_offline(srv, tmp_path):
    binary = chromium()
    client_id, secret = new_credentials(srv)
    browser = DevTools(binary, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.attach()
        browser.open(srv.url("/docs"))

        # Before authorizing, Try-It on a protected route is the uniform 401.
        assert try_it(browser, "/v1/datasets", "get")["status"] == 401

        # The exchange form: client_id + client_secret -> /oauth/token -> HTTP Bearer.
        browser.evaluate(
            "const f = document.getElementById('simio-exchange');"
            f"f.elements.client_id.value = {json.dumps(client_id)};"
            f"f.elements.client_secret.value = {json.dumps(secret)};"
            "f.requestSubmit(); return true;")
        state = browser.wait_for(
            "const s = document.getElementById('simio-exchange-status');"
            "return s.dataset.state ? [s.dataset.state, s.textContent] : null;")
        assert state[0] == "authorized", state[1]
        bearer = browser.evaluate(
            "const a = ui.authSelectors.authorized().toJS();"
            "return a.bearerAuth && a.bearerAuth.value;")
        assert bearer and bearer.startswith("eyJ") and bearer.count(".") == 2
        assert browser.evaluate(
            "return document.getElementById('simio-client-secret').value;") == ""

        # Try-It now sends the token; the authorization is kept for this tab only.
        listed = try_it(browser, "/v1/datasets", "get")
        assert listed["status"] == 200, listed
        assert listed["headers"].get("Authorization") == f"Bearer {bearer}"
        stored = browser.evaluate(
            "return [sessionStorage.getItem('simio.docs.authorized'),"
            " localStorage.getItem('authorized'), localStorage.length];")
        assert bearer in stored[0] and stored[1] is None and stored[2] == 0

        browser.send("Page.reload")
        time.sleep(0.5)
        browser.wait_for("return document.documentElement.getAttribute('data-simio-docs')"
                         " === 'ready' && !!ui.authSelectors.authorized().get('bearerAuth');")
        assert try_it(browser, "/v1/datasets", "get")["status"] == 200

        # POST /v1/credential-rotations carries the tab's Idempotency-Key: a retry in the
        # same tab replays the first rotation (same claim token) instead of rotating again.
        first = try_it(browser, "/v1/credential-rotations", "post")
        second = try_it(browser, "/v1/credential-rotations", "post")
        key = browser.evaluate(
            "return sessionStorage.getItem('simio.docs.rotation-idempotency-key');")
        assert key and key.startswith("docs-rotation-")
        for response in (first, second):
            assert response["headers"].get("Idempotency-Key") == key, response
        assert first["status"] in (200, 201), first
        assert second["status"] == 200, second
        assert json.loads(first["text"])["credential_claim_token"] == \
            json.loads(second["text"])["credential_claim_token"]
    finally:
        browser.close()

    # Offline: every request the page made went to this server (or was inline data).
    urls = [e["params"]["request"]["url"] for e in browser.events
            if e.get("method") == "Network.requestWillBeSent"]
    assert any(u.endswith("/openapi.json") for u in urls)
    foreign = [u for u in urls if not u.startswith((srv.base_url + "/", "data:", "blob:",
                                                    "about:"))]
    assert not foreign, foreign
    failed = [e["params"] for e in browser.events
              if e.get("method") == "Network.loadingFailed"]
    assert not failed, failed
    thrown = [e["params"] for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert not thrown, thrown
    security = [e["params"]["entry"] for e in browser.events
                if e.get("method") == "Log.entryAdded"
                and e["params"]["entry"].get("source") == "security"]
    assert not security, security     # no CSP violation
