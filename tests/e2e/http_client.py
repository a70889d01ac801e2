"""A Flask-test-client-shaped client that talks to a real server over a socket.

Lets a table of requests written against ``app.test_client()`` run unchanged against
``simio serve`` (tests/e2e/server.py), so the same assertions hold over real HTTP.
"""

from __future__ import annotations

import requests


class HttpResponse:
    def __init__(self, response: requests.Response):
        self._response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.mimetype = (response.headers.get("Content-Type") or "").split(";")[0].strip()

    def get_json(self):
        return self._response.json()

    def get_data(self, as_text: bool = False):
        return self._response.text if as_text else self._response.content


class HttpClient:
    def __init__(self, base_url: str, verify=True):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.verify = verify

    def open(self, method, path, *, headers=None, json=None, data=None, content_type=None):
        files = None
        if content_type == "multipart/form-data" and data is not None:
            # the test client's {"field": (stream, filename)} form -> requests' files=
            files = {k: (v[1], v[0].read()) for k, v in data.items() if isinstance(v, tuple)}
            data = {k: v for k, v in data.items() if not isinstance(v, tuple)}
            if not files:   # force a multipart body even without a file part
                files = {"_": (None, "")}
        kwargs = {"headers": headers or {}, "timeout": 120}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if files is not None:
            kwargs["files"] = files
        return HttpResponse(self.session.request(method, self.base_url + path, **kwargs))

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.open("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.open("DELETE", path, **kwargs)
