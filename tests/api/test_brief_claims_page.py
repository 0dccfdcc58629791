"""The review page shows which sentence of the brief and the draft rests on which evidence source
(issue 17): each claim with its sources as badges, all of it escaped (the sentences come from the model,
which read customer text), and an invented source never shown as a badge."""

from __future__ import annotations

import re

from db.owners import add_owner
from tests.activities.test_drafting_llm import llm_settings
from tests.api.test_review_page import sign_in
from tests.support.api import api_client
from tests.support.crm_fixtures import add_account
from tests.support.fake_openai import FakeOpenAI, claims_for, completion, specific_json
from tests.support.lifecycle_helpers import running_worker, start_account, wait_for_stage

HOSTILE = '<script>alert("claim")</script> Paused bookings'


async def test_claims_render_escaped_with_their_sources(client, pool, settings, prefix):
    owner, account_id = f"{prefix}-owner@test.dormant", f"{prefix}-claims"
    await add_account(pool, account_id, owner_email=owner)
    async with pool.acquire() as conn:
        token = await add_owner(conn, owner)
    cited = claims_for(account_id, invented="notes:FORGED")
    cited["brief_claims"][0]["sentence"] = HOSTILE
    async with FakeOpenAI() as fake:
        fake.reply(completion(specific_json(account_id, **cited)))
        fake.reply(completion(specific_json(account_id, **cited)))  # the redraft keeps the invented source
        active = llm_settings(settings, fake)
        async with running_worker(client, pool, active), api_client(active) as http:
            handle = await start_account(client, active, account_id)
            await wait_for_stage(handle, "awaiting_review")
            await sign_in(http, token)
            page = (await http.get(f"/review/accounts/{account_id}")).text
            await handle.terminate("test done")
    brief = page[page.index('id="brief-claims"'):]
    brief = brief[:brief.index("</ul>")]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;claim&#34;)&lt;/script&gt; Paused bookings" in brief
    assert f'>accounts:{account_id}#inactivity_reason</span>' in brief
    # the order's badge names the item: its date and description, in the title attribute
    assert re.search(rf'<span class="badge src" title="20\d\d-\d\d-\d\d [^"]* · Quarterly booking">'
                     rf'orders:{re.escape(account_id)}-o1</span>', brief), brief
    draft = page[page.index('id="draft-claims"'):]
    draft = draft[:draft.index("</ul>")]
    assert "Your quarterly booking was the last one on the calendar." in draft
    assert "notes:FORGED" not in brief + draft and "You asked for 90% off" not in page
    assert "cites a source that is not in the evidence: notes:FORGED" in page  # shown as a guardrail flag

