"""Presets for the exports people have: each turns one export row into one event.

A preset says which columns the export must have and how the five event fields come from
them, as SQL over the row (a nested member as ``column/member/...``). It is checked against
the file's columns before anything is read: a missing column is an error naming the preset and
the column. A row whose nested fields are missing or of another shape is refused with the
preset's field name, like any other refused row (events.clean).

Each preset cites the vendor's page that documents the export's fields; the sample files in
tests/data/exports are built from those pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from journeykit.events.errors import ColumnMappingError
from journeykit.events.sources import Scan
from journeykit.events.sqltext import quote_ident, quote_literal

# Currencies Stripe counts in whole units (its "zero-decimal currencies").
_ZERO_DECIMAL = (
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
)  # fmt: skip


@dataclass(frozen=True)
class Derived:
    """The five event fields as SQL text expressions, and the export field each came from."""

    customer_id: str
    event: str
    timestamp: str
    value: str | None
    properties: str
    fields: dict[str, str]


class Fields:
    """SQL for an export's fields, whatever the file format: ``text("a/b")`` is member ``b`` of
    column ``a`` as text, ``json("a")`` the column as a JSON value."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan

    def json(self, path: str) -> str:
        """A column absent from the file (an optional one) reads as NULL. A text column is a
        JSON string, unless it holds a JSON object or array (a CSV can carry nested data)."""
        column, _, rest = path.partition("/")
        kind = self.scan.columns.get(column)
        if self.scan.format == "jsonl":
            doc = f"(_j -> {quote_literal('/' + column.replace('~', '~0'))})"
        elif kind is None:
            return "CAST(NULL AS JSON)"
        elif kind == "VARCHAR":
            c = quote_ident(column)
            doc = (
                f"CASE WHEN ({c} LIKE '{{%' OR {c} LIKE '[%') AND json_valid({c}) "
                f"THEN CAST({c} AS JSON) ELSE to_json({c}) END"
            )
        else:
            doc = f"CAST(to_json({quote_ident(column)}) AS JSON)"
        return f"({doc} -> {quote_literal('/' + rest)})" if rest else doc

    def text(self, path: str) -> str:
        column, _, rest = path.partition("/")
        if not rest and self.scan.format != "jsonl":
            return self.scan.text(column) if column in self.scan.columns else "NULL"
        doc = self.json(column)
        return f"({doc} ->> {quote_literal('/' + rest)})" if rest else f"({doc} ->> '$')"

    def object(self, path: str) -> str:
        """A member that must be a JSON object (else NULL, and the row is refused)."""
        doc = self.json(path)
        return f"CASE WHEN json_type({doc}) = 'OBJECT' THEN CAST({doc} AS VARCHAR) END"


@dataclass(frozen=True)
class ExportPreset:
    name: str
    title: str
    doc: str  # the vendor's page documenting the fields
    needs: tuple[str, ...]  # top-level columns the export must have
    yields: str  # the events it gives, for `journeykit sources`
    derive: Callable[[Fields], Derived]

    def check(self, columns: Sequence[str], where: str) -> None:
        missing = [c for c in self.needs if c not in columns]
        if missing:
            raise ColumnMappingError(
                f"{where}: the {self.name} preset ({self.title}) needs the column "
                f"{missing[0]!r}, which the file does not have (columns: "
                f"{', '.join(columns) or 'none'}); see {self.doc}"
            )


def _number(expr: str) -> str:
    return f"TRY_CAST({expr} AS DOUBLE)"


def _mixpanel(f: Fields) -> Derived:
    return Derived(
        customer_id=f.text("properties/distinct_id"),
        event=f.text("event"),
        timestamp=f.text("properties/time"),
        value=None,
        properties=f.object("properties"),
        fields={"customer_id": "properties.distinct_id", "event": "event",
                "timestamp": "properties.time", "properties": "properties"},
    )  # fmt: skip


def _amplitude(f: Fields) -> Derived:
    ids = f"coalesce(nullif({f.text('user_id')}, ''), {f.text('device_id')})"
    return Derived(
        customer_id=ids,
        event=f.text("event_type"),
        timestamp=f.text("event_time"),
        value=None,
        properties=f.object("event_properties"),
        fields={"customer_id": "user_id or device_id", "event": "event_type",
                "timestamp": "event_time", "properties": "event_properties"},
    )  # fmt: skip


def _ga4(f: Fields) -> Derived:
    # event_params is a list of {key, value: {string_value | int_value | float_value |
    # double_value}}; it becomes one flat object of the values that are set.
    params = f.json("event_params")
    # BigQuery writes INT64 as a JSON string; it becomes a number again.
    value = (
        "coalesce(p -> '$.value.string_value', "
        "to_json(TRY_CAST(p ->> '$.value.int_value' AS BIGINT)), "
        "p -> '$.value.double_value', p -> '$.value.float_value')"
    )
    flat = (
        f"CASE WHEN json_type({params}) = 'ARRAY' THEN coalesce((SELECT CAST(json_group_object("
        f"p ->> '$.key', {value}) AS VARCHAR) FROM (SELECT unnest(CAST({params} AS JSON[])) AS p) "
        f"WHERE p ->> '$.key' IS NOT NULL AND {value} IS NOT NULL), '{{}}') END"
    )
    revenue = f"coalesce({_number(f.text('ecommerce/purchase_revenue'))}, " + (
        f"{_number(f.text('event_value_in_usd'))})"
    )
    # event_timestamp is microseconds since the epoch; the reader takes milliseconds.
    micros = _number(f.text("event_timestamp"))
    return Derived(
        customer_id=f"coalesce(nullif({f.text('user_id')}, ''), {f.text('user_pseudo_id')})",
        event=f.text("event_name"),
        timestamp=f"CAST({micros} / 1000 AS VARCHAR)",
        value=f"CAST({revenue} AS VARCHAR)",
        properties=flat,
        fields={"customer_id": "user_id or user_pseudo_id", "event": "event_name",
                "timestamp": "event_timestamp", "value": "ecommerce.purchase_revenue",
                "properties": "event_params"},
    )  # fmt: skip


def _major_units(f: Fields, amount: str) -> str:
    """A Stripe amount (in the currency's smallest unit) in the currency's own units."""
    currency = f"lower({f.text('currency')})"
    zero = ", ".join(quote_literal(c) for c in _ZERO_DECIMAL)
    number = _number(f.text(amount))
    return (
        f"CAST(CASE WHEN {currency} IN ({zero}) THEN {number} ELSE {number} / 100 END AS VARCHAR)"
    )


def _object_of(f: Fields, kept: Sequence[str]) -> str:
    return (
        "CAST(json_object("
        + ", ".join(f"{quote_literal(k)}, {f.json(k)}" for k in kept)
        + (") AS VARCHAR)")
    )


def _stripe_charges(f: Fields) -> Derived:
    kept = ("id", "currency", "status", "paid", "refunded", "amount_refunded", "invoice",
            "description", "receipt_email")  # fmt: skip
    return Derived(
        customer_id=f"coalesce({f.text('customer')}, {f.text('receipt_email')})",
        event=f"'charge_' || {f.text('status')}",
        timestamp=f.text("created"),
        value=_major_units(f, "amount"),
        properties=_object_of(f, kept),
        fields={"customer_id": "customer or receipt_email", "event": "status",
                "timestamp": "created", "value": "amount"},
    )  # fmt: skip


def _stripe_invoices(f: Fields) -> Derived:
    # billing_reason says what an invoice is in a subscription's life: the first one starts
    # it, each subscription_cycle one renews it. Paid invoices count from when they were paid.
    reason = f.text("billing_reason")
    event = (
        f"CASE WHEN {f.text('status')} <> 'paid' THEN 'invoice_' || {f.text('status')} "
        f"WHEN {reason} = 'subscription_create' THEN 'subscription_started' "
        f"WHEN {reason} = 'subscription_cycle' THEN 'subscription_renewed' "
        "ELSE 'invoice_paid' END"
    )
    kept = ("id", "currency", "status", "billing_reason", "subscription", "number")
    return Derived(
        customer_id=f"coalesce({f.text('customer')}, {f.text('customer_email')})",
        event=event,
        timestamp=f"coalesce({f.text('status_transitions/paid_at')}, {f.text('created')})",
        value=_major_units(f, "amount_paid"),
        properties=_object_of(f, kept),
        fields={"customer_id": "customer or customer_email", "event": "status",
                "timestamp": "status_transitions.paid_at or created", "value": "amount_paid"},
    )  # fmt: skip


def _stripe_subscriptions(f: Fields) -> Derived:
    # One object per subscription, in its current state: a canceled one is its cancellation
    # (its start is the invoice with billing_reason subscription_create).
    canceled = f.text("canceled_at")
    event = (
        f"CASE WHEN {canceled} IS NOT NULL THEN 'subscription_canceled' "
        f"ELSE 'subscription_' || {f.text('status')} END"
    )
    kept = ("id", "status", "currency", "cancel_at_period_end", "start_date", "ended_at")
    return Derived(
        customer_id=f.text("customer"),
        event=event,
        timestamp=f"coalesce({canceled}, {f.text('start_date')}, {f.text('created')})",
        value=None,
        properties=_object_of(f, kept),
        fields={"customer_id": "customer", "event": "status",
                "timestamp": "canceled_at or start_date"},
    )  # fmt: skip


def _shopify_orders(f: Fields) -> Derived:
    # One order object in its current state: a cancelled order is its cancellation.
    cancelled = f.text("cancelled_at")
    event = (
        f"CASE WHEN {cancelled} IS NOT NULL THEN 'order_cancelled' "
        f"WHEN {f.text('financial_status')} = 'refunded' THEN 'order_refunded' "
        "ELSE 'order_placed' END"
    )
    kept = ("id", "order_number", "currency", "financial_status", "fulfillment_status")
    return Derived(
        customer_id=f"coalesce({f.text('customer/id')}, {f.text('email')})",
        event=event,
        timestamp=f"coalesce({cancelled}, {f.text('created_at')})",
        value=f.text("total_price"),
        properties=_object_of(f, kept),
        fields={"customer_id": "customer.id or email", "event": "financial_status",
                "timestamp": "cancelled_at or created_at", "value": "total_price"},
    )  # fmt: skip


EXPORTS: dict[str, ExportPreset] = {
    p.name: p
    for p in (
        ExportPreset(
            "mixpanel",
            "Mixpanel raw event export (JSON lines)",
            "https://developer.mixpanel.com/reference/raw-event-export",
            ("event", "properties"),
            "each event under its own name; properties.distinct_id is the customer",
            _mixpanel,
        ),
        ExportPreset(
            "amplitude",
            "Amplitude Export API (JSON lines)",
            "https://amplitude.com/docs/apis/analytics/export",
            ("event_type", "event_time", "user_id", "device_id", "event_properties"),
            "each event_type; user_id (else device_id) is the customer",
            _amplitude,
        ),
        ExportPreset(
            "ga4",
            "Google Analytics 4 BigQuery export (JSON lines or Parquet)",
            "https://support.google.com/analytics/answer/7029846",
            ("event_timestamp", "event_name", "event_params", "user_pseudo_id"),
            "each event_name; event_params flattened into properties; purchase revenue as value",
            _ga4,
        ),
        ExportPreset(
            "stripe-charges",
            "Stripe charges (the API's charge objects, JSON lines or CSV)",
            "https://docs.stripe.com/api/charges/object",
            ("id", "amount", "currency", "customer", "created", "status"),
            "charge_succeeded / charge_failed / charge_pending, with the amount in the "
            "currency's units as value and the currency as a property",
            _stripe_charges,
        ),
        ExportPreset(
            "stripe-invoices",
            "Stripe invoices (the API's invoice objects, JSON lines)",
            "https://docs.stripe.com/api/invoices/object",
            ("id", "customer", "amount_paid", "currency", "status", "billing_reason", "created"),
            "subscription_started (first invoice), subscription_renewed (each cycle), "
            "invoice_paid, invoice_open / invoice_void ..., with the amount paid as value",
            _stripe_invoices,
        ),
        ExportPreset(
            "stripe-subscriptions",
            "Stripe subscriptions (the API's subscription objects, JSON lines)",
            "https://docs.stripe.com/api/subscriptions/object",
            ("id", "customer", "status", "start_date", "canceled_at"),
            "subscription_canceled at canceled_at, else subscription_<status> at start_date",
            _stripe_subscriptions,
        ),
        ExportPreset(
            "shopify-orders",
            "Shopify orders (the Admin API's order objects, JSON lines)",
            "https://shopify.dev/docs/api/admin-rest/latest/resources/order",
            ("id", "created_at", "total_price", "currency", "financial_status", "email"),
            "order_placed, order_refunded or order_cancelled, with the total as value",
            _shopify_orders,
        ),
    )
}


def describe_presets() -> list[dict[str, str]]:
    """Every preset with what it expects, for `journeykit sources`."""
    from journeykit.events.sources import PRESETS

    titles = {"segment": "Segment tracking calls", "posthog": "PostHog events export"}
    rows = [
        {"preset": name, "export": titles.get(name, name), "needs": ", ".join(
            [*m.customer_id, m.event, m.timestamp, *([m.properties] if m.properties else [])]
        ), "yields": "each event under its own name", "doc": ""}
        for name, m in PRESETS.items()
    ]  # fmt: skip
    rows += [
        {"preset": p.name, "export": p.title, "needs": ", ".join(p.needs), "yields": p.yields,
         "doc": p.doc}
        for p in EXPORTS.values()
    ]  # fmt: skip
    return rows
