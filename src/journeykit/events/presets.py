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

    def __init__(self, scan: Scan, group: str | None = None) -> None:
        self.scan = scan
        self.group = group

    def whole(self, column: str) -> str:
        """A column of the record a row belongs to: its first non-blank value among the rows
        that share the preset's ``group`` column (an order's own columns are written on its
        first line-item row only)."""
        text = self.text(column)
        return (
            f"first_value(nullif({text}, '') IGNORE NULLS) OVER (PARTITION BY "
            f"{self.text(str(self.group))} ORDER BY {_ROW} ROWS BETWEEN UNBOUNDED PRECEDING "
            "AND UNBOUNDED FOLLOWING)"
        )

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


# The row's position in the file, numbered while the rows stream in (group presets only).
_ROW = "__jk_n"


@dataclass(frozen=True)
class ExportPreset:
    name: str
    title: str
    doc: str  # the vendor's page documenting the fields
    needs: tuple[str, ...]  # top-level columns the export must have
    yields: str  # the events it gives, for `journeykit sources`
    derive: Callable[[Fields], Derived]
    # Rows sharing this column's value are one record: each derives the record's event, so the
    # further rows are counted as duplicates of it (Shopify's CSV: one row per line item).
    group: str | None = None

    def numbered(self, from_sql: str) -> str:
        """The scan with each row's position, for a group preset (kept in file order)."""
        return f"SELECT *, row_number() OVER () AS {_ROW} FROM ({from_sql})"

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


def _shopify_orders_csv(f: Fields) -> Derived:
    # The admin's CSV export: one row per line item, the order's own columns on its first row
    # only; every row of an order derives the order's event (see ExportPreset.group).
    w = f.whole
    cancelled, status = w("Cancelled at"), w("Financial Status")
    event = (
        f"CASE WHEN {cancelled} IS NOT NULL THEN 'order_cancelled' "
        f"WHEN {status} = 'refunded' THEN 'order_refunded' ELSE 'order_placed' END"
    )
    item = (
        f"json_object('name', {f.text('Lineitem name')}, 'quantity', "
        f"TRY_CAST({f.text('Lineitem quantity')} AS BIGINT), 'price', "
        f"{_number(f.text('Lineitem price'))}, 'sku', nullif({f.text('Lineitem sku')}, ''))"
    )
    items = (
        f"list({item}) OVER (PARTITION BY {f.text('Name')} ORDER BY {_ROW} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    )
    properties = (
        f"CAST(json_object('order', {f.text('Name')}, 'currency', {w('Currency')}, "
        f"'financial_status', {status}, 'fulfillment_status', {w('Fulfillment Status')}, "
        f"'refunded_amount', {_number(w('Refunded Amount'))}, 'line_items', to_json({items})) "
        "AS VARCHAR)"
    )
    return Derived(
        customer_id=w("Email"),
        event=event,
        timestamp=f"coalesce({cancelled}, {w('Created at')})",
        value=w("Total"),
        properties=properties,
        fields={"customer_id": "Email", "event": "Financial Status",
                "timestamp": "Cancelled at or Created at", "value": "Total"},
    )  # fmt: skip


def _discourse_users(f: Fields) -> Derived:
    kept = ("id", "name", "email", "trust_level", "post_count", "topic_count", "likes_received")
    return Derived(
        customer_id=f.text("username"),
        event="'joined'",
        timestamp=f.text("created_at"),
        value=None,
        properties=_object_of(f, kept),
        fields={"customer_id": "username", "event": "", "timestamp": "created_at"},
    )


def _discourse_posts(f: Fields) -> Derived:
    # The Solved plugin marks an accepted answer on its post; the post's time is when it was
    # written (the export does not say when it was accepted).
    accepted = f"lower(coalesce({f.text('accepted_answer')}, '')) IN ('true', 't', '1')"
    number = f.text("post_number")
    event = (
        f"CASE WHEN {number} IS NULL OR {number} = '' THEN NULL "
        f"WHEN {accepted} THEN 'answer_accepted' "
        f"WHEN {number} = '1' THEN 'posted' ELSE 'replied' END"
    )
    kept = ("id", "topic_id", "post_number", "reply_to_post_number", "topic_slug",
            "category_id", "like_count")  # fmt: skip
    return Derived(
        customer_id=f.text("username"),
        event=event,
        timestamp=f.text("created_at"),
        value=None,
        properties=_object_of(f, kept),
        fields={"customer_id": "username", "event": "post_number or accepted_answer",
                "timestamp": "created_at"},
    )  # fmt: skip


# Thinkific's webhook topics (resource.action) and the journey events they are.
_THINKIFIC = {
    "enrollment.created": "enrolled",
    "lesson.completed": "lesson_completed",
    "enrollment.completed": "course_completed",
    "enrollment.progress": "course_progress",
    "user.signup": "signed_up",
    "order.created": "ordered",
}


def _thinkific(f: Fields) -> Derived:
    topic = f"{f.text('resource')} || '.' || {f.text('action')}"
    cases = " ".join(
        f"WHEN {quote_literal(k)} THEN {quote_literal(v)}" for k, v in _THINKIFIC.items()
    )
    event = f"CASE {topic} {cases} ELSE replace({topic}, '.', '_') END"
    properties = (
        "CAST(json_object("
        f"'course_id', {f.json('payload/course/id')}, 'course', {f.json('payload/course/name')}, "
        f"'chapter', {f.json('payload/chapter/name')}, 'lesson', {f.json('payload/lesson/name')}, "
        f"'lesson_id', {f.json('payload/lesson/id')}, "
        f"'percentage_completed', {_number(f.text('payload/percentage_completed'))}) AS VARCHAR)"
    )
    return Derived(
        customer_id=f"coalesce(nullif({f.text('payload/user/email')}, ''), "
        f"{f.text('payload/user/id')})",
        event=event,
        timestamp=f.text("created_at"),
        value=None,
        properties=properties,
        fields={"customer_id": "payload.user.email or payload.user.id",
                "event": "resource and action", "timestamp": "created_at"},
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
        ExportPreset(
            "shopify-orders-csv",
            "Shopify orders (the admin's CSV export, one row per line item)",
            "https://help.shopify.com/en/manual/fulfillment/managing-orders/exporting-orders",
            ("Name", "Email", "Financial Status", "Created at", "Total", "Currency"),
            "order_placed, order_refunded or order_cancelled per order, with Total as value and "
            "the line items as a property; an order's further line-item rows count as "
            "duplicates of it",
            _shopify_orders_csv,
            group="Name",
        ),
        ExportPreset(
            "discourse-users",
            "Discourse user list (Admin > Users > Export, CSV)",
            "https://github.com/discourse/discourse/blob/main/app/jobs/regular/export_csv_file.rb",
            ("id", "username", "created_at"),
            "joined at created_at; username is the customer",
            _discourse_users,
        ),
        ExportPreset(
            "discourse-posts",
            "Discourse posts (the API's post objects, JSON lines or CSV)",
            "https://docs.discourse.org/#tag/Posts",
            ("id", "username", "created_at", "post_number", "topic_id"),
            "posted (a topic's first post), replied, answer_accepted (the Solved plugin's "
            "accepted_answer); username is the customer",
            _discourse_posts,
        ),
        ExportPreset(
            "thinkific",
            "Thinkific webhook events (JSON lines, one delivery per line)",
            "https://developers.thinkific.com/api/webhooks/",
            ("resource", "action", "created_at", "payload"),
            "enrolled, lesson_completed, course_completed (and other topics as resource_action); "
            "payload.user.email is the customer",
            _thinkific,
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
