"""The sandbox publishes demo_price_list.json; the unit tests use demo_price_list().
They must be one and the same list."""

from __future__ import annotations

from app.routers.v1.price_list_schemas import read_price_list_file
from app.sandbox.demo_catalog import DEMO_PRICE_LIST_FILE, DEMO_PRICE_LIST_ID, demo_price_list


def test_the_demo_file_is_the_demo_price_list() -> None:
    published = read_price_list_file(DEMO_PRICE_LIST_FILE, DEMO_PRICE_LIST_ID).to_price_list()
    expected = demo_price_list()

    assert published == expected
    assert list(published.plans) == list(expected.plans)  # the order /v1/plans shows
