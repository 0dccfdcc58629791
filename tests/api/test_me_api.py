"""GET /v1/me and PUT /v1/me/notifications: an owner chooses which notifications reach them."""

from __future__ import annotations

from tests.support.api import api_client, bearer


async def test_an_owner_chooses_what_they_hear(pool, settings, prefix, tokens):
    async with api_client(settings) as http:
        before = await http.get("/v1/me", headers=bearer(tokens["owner"]))
        changed = await http.put("/v1/me/notifications", json={"notify": "digest"}, headers=bearer(tokens["owner"]))
        bad = await http.put("/v1/me/notifications", json={"notify": "sometimes"}, headers=bearer(tokens["owner"]))
        anonymous = await http.put("/v1/me/notifications", json={"notify": "none"})
    assert before.json() == {"email": f"{prefix}-owner@test.dormant", "is_admin": False, "notify": "all"}
    assert changed.json()["notify"] == "digest" and bad.status_code == 422 and anonymous.status_code == 401
    assert await pool.fetch("SELECT email, notify FROM owners WHERE email LIKE $1 ORDER BY email", f"{prefix}-%") == [
        (f"{prefix}-admin@test.dormant", "all"), (f"{prefix}-other@test.dormant", "all"),
        (f"{prefix}-owner@test.dormant", "digest")]
