"""Export presets: each sample export (tests/data/exports, built from the vendor's documented
fields) imports with no rejects into the documented events; a malformed export is refused with
the preset and the field named."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from journeykit.engine.workspace import import_files
from journeykit.events.errors import ColumnMappingError
from journeykit.events.importer import ImportOptions
from journeykit.events.sources import column_map
from journeykit.workspace import Workspace

from .conftest import db_rows

EXPORTS = Path(__file__).resolve().parents[1] / "data" / "exports"
ANA = "8f3b2a10-cafe-4d1e-9a31-2f6c0e1d5a77"
EXPECTED = {
    "mixpanel": [
        (ANA, "Signed up", datetime(2024, 1, 1, 10), None),
        (ANA, "Viewed lesson", datetime(2024, 1, 2, 10), None),
        (ANA, "Purchase", datetime(2024, 1, 3, 10), None),
        ("user-2041", "Signed up", datetime(2024, 1, 4, 10), None),
    ],
    "amplitude": [
        ("ana@example.com", "sign_up", datetime(2024, 1, 1, 10, 0, 0, 412000), None),
        ("ana@example.com", "lesson_completed", datetime(2024, 1, 3, 18, 30), None),
        # no user_id: the device is the customer
        (
            "5E3C1A2B-0F9D-4C8B-A7E6-1D2C3B4A5F60",
            "sign_up",
            datetime(2024, 1, 4, 8, 15, 30, 250000),
            None,
        ),
    ],
    "ga4": [
        ("1234567890.1704103200", "page_view", datetime(2024, 1, 1, 10, 0, 0, 123456), None),
        ("member-77", "sign_up", datetime(2024, 1, 1, 11), None),
        ("member-77", "purchase", datetime(2024, 1, 5, 14, 0, 0, 500000), 89.5),
    ],
    "stripe-charges": [
        ("cus_PQ1aBcDeFgHiJk", "charge_succeeded", datetime(2024, 1, 3, 10), 49.0),
        ("cus_RS2bCdEfGhIjKl", "charge_failed", datetime(2024, 1, 4, 10), 5000.0),  # JPY: no cents
        ("ben@example.com", "charge_succeeded", datetime(2024, 1, 5, 10), 19.99),  # no customer
    ],
    "stripe-invoices": [  # paid invoices count from paid_at
        ("cus_PQ1aBcDeFgHiJk", "subscription_started", datetime(2024, 1, 1, 10, 1), 29.0),
        ("cus_PQ1aBcDeFgHiJk", "subscription_renewed", datetime(2024, 2, 1, 11, 1), 29.0),
        ("cus_RS2bCdEfGhIjKl", "invoice_open", datetime(2024, 2, 15, 10), 0.0),
    ],
    "shopify-orders": [  # times with their offsets, in UTC; a guest order is its e-mail
        ("7012345678901", "order_placed", datetime(2024, 3, 1, 9, 15), 59.9),
        ("ben@example.com", "order_cancelled", datetime(2024, 3, 3, 14), 120.0),
        ("7012345678901", "order_refunded", datetime(2024, 3, 10, 7), 19.0),
    ],
    "stripe-subscriptions": [
        ("cus_RS2bCdEfGhIjKl", "subscription_active", datetime(2024, 2, 16, 10), None),
        ("cus_PQ1aBcDeFgHiJk", "subscription_canceled", datetime(2024, 3, 1, 10), None),
    ],
    # one event per order (its further line-item rows are duplicates of it), in UTC
    "shopify-orders-csv": [
        ("ana@example.com", "order_placed", datetime(2024, 3, 1, 9, 15), 59.9),
        ("ben@example.com", "order_cancelled", datetime(2024, 3, 3, 14), 120.0),
        ("ana@example.com", "order_refunded", datetime(2024, 3, 10, 7), 19.0),
    ],
    "discourse-users": [
        ("chen", "joined", datetime(2023, 11, 2, 7, 45), None),
        ("ana_l", "joined", datetime(2024, 1, 15, 10), None),
        ("benok", "joined", datetime(2024, 1, 20, 18, 30, 5), None),
    ],
    "discourse-posts": [
        ("chen", "posted", datetime(2024, 2, 20, 18, 40), None),
        ("ana_l", "posted", datetime(2024, 2, 20, 19, 3, 11, 412000), None),
        ("benok", "replied", datetime(2024, 2, 21, 9, 15), None),
        ("chen", "answer_accepted", datetime(2024, 2, 21, 10, 2, 30), None),
    ],
    "thinkific": [  # no e-mail: the user's id is the customer
        ("ana@example.com", "enrolled", datetime(2024, 1, 5, 9, 18, 10, 768000), None),
        ("ana@example.com", "lesson_completed", datetime(2024, 1, 6, 20, 4, 4, 41000), None),
        ("ana@example.com", "course_progress", datetime(2024, 1, 6, 20, 4, 4, 112000), None),
        ("95", "enrolled", datetime(2024, 1, 8, 10, 15), None),
        ("ana@example.com", "lesson_completed", datetime(2024, 1, 12, 17, 30), None),
        ("ana@example.com", "course_completed", datetime(2024, 1, 12, 17, 35), None),
    ],
}
FILES = {"shopify-orders-csv": "shopify-orders.csv", "discourse-users": "discourse-users.csv"}
DUPLICATES = {"shopify-orders-csv": 2}  # the second line items of orders #1001 and #1003


def load(ws: Workspace, path: Path, preset: str):  # type: ignore[no-untyped-def]
    (report,) = import_files(ws, [path], ImportOptions(column_map(preset=preset)))
    return report


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_each_sample_export_gives_its_documented_events(ws: Workspace, preset: str) -> None:
    report = load(ws, EXPORTS / FILES.get(preset, f"{preset}.jsonl"), preset)
    assert (report.rejected, report.loaded) == (0, len(EXPECTED[preset]))
    assert report.duplicates == DUPLICATES.get(preset, 0)
    got = db_rows(ws, "SELECT customer_id, event, timestamp, value FROM events ORDER BY timestamp")
    assert got == EXPECTED[preset]


def test_ga4_event_params_become_flat_typed_properties(ws: Workspace) -> None:
    load(ws, EXPORTS / "ga4.jsonl", "ga4")
    rows = db_rows(ws, "SELECT event, properties FROM events ORDER BY timestamp")
    assert json.loads(str(rows[0][1])) == {
        "page_title": "Home", "ga_session_id": 1704103200, "engagement_time_msec": 120,
    }  # fmt: skip
    assert json.loads(str(rows[2][1])) == {
        "transaction_id": "T-1001",
        "currency": "EUR",
        "value": 89.5,
    }


def test_stripe_charges_from_a_csv_of_the_same_fields(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "charges.csv"
    path.write_text(
        "id,amount,currency,customer,created,status,description\n"
        "ch_1,2500,gbp,cus_A,1704276000,succeeded,Coaching call\n"
    )
    report = load(ws, path, "stripe-charges")
    assert report.rejected == 0
    assert db_rows(ws, "SELECT customer_id, event, value FROM events") == [
        ("cus_A", "charge_succeeded", 25.0)
    ]


def test_a_missing_column_names_the_preset_and_the_column(ws: Workspace, tmp_path: Path) -> None:
    lines = (EXPORTS / "amplitude.jsonl").read_text().splitlines()
    bad = tmp_path / "amplitude.jsonl"
    bad.write_text("\n".join(json.dumps({k: v for k, v in json.loads(line).items()
                                         if k != "event_time"}) for line in lines) + "\n")  # fmt: skip
    with pytest.raises(
        ColumnMappingError, match=r"the amplitude preset .* needs the column 'event_time'"
    ):
        load(ws, bad, "amplitude")


def test_wrong_nesting_is_refused_with_the_presets_field(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "mixpanel.jsonl"
    bad.write_text(
        '{"event":"Signed up","distinct_id":"ana","properties":{"time":1704103200}}\n'
        '{"event":"Signed up","properties":{"time":1704103200,"distinct_id":"ben"}}\n'
        '{"event":"Signed up","properties":"not an object"}\n'
    )
    report = load(ws, bad, "mixpanel")
    assert (report.loaded, report.rejected) == (1, 2)
    assert db_rows(ws, "SELECT line, field, reason FROM rejected ORDER BY line") == [
        (1, "properties.distinct_id", "missing customer id"),
        (3, "properties.distinct_id", "missing customer id"),
    ]


def test_an_export_preset_takes_no_column_options() -> None:
    with pytest.raises(ColumnMappingError, match="the ga4 preset maps every field itself"):
        column_map(preset="ga4", customer_id="user_id")


def test_a_shopify_csv_order_carries_all_its_line_items(ws: Workspace) -> None:
    load(ws, EXPORTS / "shopify-orders.csv", "shopify-orders-csv")
    rows = db_rows(ws, "SELECT properties FROM events ORDER BY timestamp")
    first = json.loads(str(rows[0][0]))
    assert (first["order"], first["currency"], first["financial_status"]) == (
        "#1001",
        "EUR",
        "paid",
    )
    assert first["line_items"] == [
        {"name": "Starter course - Lifetime access", "quantity": 1, "price": 39.9,
         "sku": "COURSE-START"},
        {"name": "Workbook (print)", "quantity": 1, "price": 15.0, "sku": "BOOK-1"},
    ]  # fmt: skip
    assert json.loads(str(rows[2][0]))["refunded_amount"] == 19.0


def test_a_shopify_csv_refusal_keeps_its_own_line(ws: Workspace, tmp_path: Path) -> None:
    # Rows are grouped by order to fill in the order's columns; a refused row's line number
    # must still be its own line in the file.
    lines = (EXPORTS / "shopify-orders.csv").read_text().splitlines()
    bad = tmp_path / "orders_export.csv"
    lines[3] = lines[3].replace("ben@example.com", "", 1)  # order #1002 has no e-mail
    bad.write_text("\n".join([lines[0], lines[3], lines[1], lines[2], lines[4], lines[5]]) + "\n")
    report = load(ws, bad, "shopify-orders-csv")
    assert (report.loaded, report.duplicates, report.rejected) == (2, 2, 1)
    assert db_rows(ws, "SELECT line, field, reason FROM rejected") == [
        (2, "Email", "missing customer id")
    ]


def test_a_shopify_csv_without_total_names_the_preset(ws: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "orders_export.csv"
    bad.write_text(
        "Name,Email,Financial Status,Created at,Currency\n#1,a@b.c,paid,2024-01-01,EUR\n"
    )
    with pytest.raises(ColumnMappingError, match=r"the shopify-orders-csv preset .* 'Total'"):
        load(ws, bad, "shopify-orders-csv")


def test_thinkific_lesson_properties_and_a_bad_payload(ws: Workspace, tmp_path: Path) -> None:
    lines = (EXPORTS / "thinkific.jsonl").read_text().splitlines()
    bad = tmp_path / "thinkific.jsonl"
    broken = json.loads(lines[1]) | {"payload": "lesson 1001 done"}
    bad.write_text("\n".join([lines[1], json.dumps(broken)]) + "\n")
    report = load(ws, bad, "thinkific")
    assert (report.loaded, report.rejected) == (1, 1)
    (props,) = db_rows(ws, "SELECT properties FROM events")[0]
    assert json.loads(str(props)) == {
        "course_id": 68, "course": "Python from zero", "chapter": "Getting started",
        "lesson": "Installing Python", "lesson_id": 1001, "percentage_completed": None,
    }  # fmt: skip
    assert db_rows(ws, "SELECT line, field FROM rejected") == [
        (2, "payload.user.email or payload.user.id")
    ]


def test_a_discourse_post_without_its_number_is_refused(ws: Workspace, tmp_path: Path) -> None:
    lines = (EXPORTS / "discourse-posts.jsonl").read_text().splitlines()
    bad = tmp_path / "posts.jsonl"
    bad.write_text(
        lines[0] + "\n" + json.dumps(json.loads(lines[2]) | {"post_number": None}) + "\n"
    )
    report = load(ws, bad, "discourse-posts")
    assert (report.loaded, report.rejected) == (1, 1)
    assert db_rows(ws, "SELECT line, field, reason FROM rejected") == [
        (2, "post_number or accepted_answer", "missing event")
    ]
