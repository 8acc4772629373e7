"""/metrics also says how many orders are in each state and what the outbox holds."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import put_mailbox
from tests.api.order_helpers import new_key, order_body, quote_id_for
from tests.conftest import CUSTOMER


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_orders_by_state_and_the_outbox_backlog(
    client: httpx.AsyncClient,
) -> None:
    await put_mailbox(client, "mbx-1")
    quote_id = await quote_id_for(client, CUSTOMER, [{"mailbox_id": "mbx-1"}])
    await client.post("/v1/orders", json=order_body(quote_id), headers=new_key(CUSTOMER))

    found = samples((await client.get("/metrics")).text)

    assert found[("orders", (("state", "AWAITING_PAYMENT"),))] == 1
    assert found[("orders", (("state", "FULFILLED"),))] == 0
    assert found[("outbox_backlog", ())] == 1  # the confirmation email
