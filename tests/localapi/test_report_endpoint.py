"""GET /v1/generations/{id}/report: the HTML quality report of a generation over HTTP."""

from __future__ import annotations

import re

from engine.datasets import QUICKSTART_SCENARIO
from tests.localapi.fixtures import assert_problem, generate, train


def test_report_of_a_scenario_generation(client, tenant_token, make_tenant):
    headers, _, _ = tenant_token
    dataset_id = train(client, headers)
    body = {k: v for k, v in QUICKSTART_SCENARIO.items() if k != "seed"}
    gen = generate(client, headers, dataset_id, {**body, "row_count": 2000, "seed": 3}).get_json()
    response = client.get(f"/v1/generations/{gen['generation_id']}/report", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for column in ("age", "segment", "channel", "region", "purchase_intent"):
        assert column in html
    assert "Premium" in html and "0.55" in html                    # target vs achieved shares
    assert re.findall(r"""(?:src|href)=["']https?://""", html) == []   # nothing external
    assert "data:image/png;base64," in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]

    other, _, _ = make_tenant(company="Other", email="o@other.example")
    assert_problem(client.get(f"/v1/generations/{gen['generation_id']}/report", headers=other),
                   404, "simio_generation_not_found")
    assert client.get(f"/v1/generations/{gen['generation_id']}/report").status_code == 401
    assert_problem(client.get("/v1/generations/not.valid/report", headers=headers), 404,
                   "simio_generation_not_found")
