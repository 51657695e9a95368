"""The raw tables: one per landing folder of docs/sources.md, declared once.

Each raw table gives the contract's fields as text columns (exactly as delivered; staging casts
them), the whole record as ``_record`` jsonb for JSON sources (fields the contract does not use
are kept, never rejected), and lineage columns on every row. A records-only table (CallRail,
Square, HubSpot: records.py) stores ``_record`` and the lineage alone, and its view gives the
fields. The loader checks every field's type before a row is loaded, so staging's casts
cannot fail; a row that does not pass goes to quarantine with its reason.

Every reason a line is refused for its values is declared here, next to its field: the field's
``kind`` (an integer, a timestamp with a UTC offset, ...), ``required``, and a ``rule`` on the
value (a money amount is not below zero, a currency is the warehouse's, ``WAREHOUSE_CURRENCY``).
What cannot be read at all (bad bytes, bad JSON or CSV, a wrong number of fields) is the
readers' (readers.py).

A table's ``source`` and ``name`` are its dbt source and table names, and so also its Dagster
asset key: lineage joins the raw assets to dbt without a translator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePosixPath

RAW_SCHEMA = "raw"

# The currency of every amount the warehouse sums: revenue is added up without conversion, so
# a Square amount in another currency is refused at load (and the validation suites check it).
WAREHOUSE_CURRENCY = "USD"


class Kind(StrEnum):
    """How a field's text is checked before loading."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TIMESTAMP = "ISO 8601 timestamp"
    LOCAL_TIMESTAMP = "YYYY-MM-DD HH:MM:SS timestamp"
    EPOCH = "epoch seconds"
    JSON = "json"


SQL_TYPES = {Kind.LOCAL_TIMESTAMP: "timestamp", Kind.INTEGER: "bigint", Kind.EPOCH: "bigint"}


class Format(StrEnum):
    CALLRAIL = "callrail"  # API pages (*.json), JSON lines, or CSV with the same field names
    JSONL = "jsonl"  # one JSON object per line
    ASTERISK_CDR = "asterisk_cdr"  # cdr-csv Master.csv, no header, 21 quoted columns
    ASTERISK_QUEUE_LOG = "asterisk_queue_log"  # pipe-separated, trailing fields may be absent


@dataclass(frozen=True)
class Rule:
    """A rule on a field's value, checked after its kind: a line whose value breaks it is
    quarantined with the reason ``field '<column>': '<value>' <broken>``. ``holds`` gets the
    value as text, already checked to be of the field's kind (and not missing)."""

    broken: str  # what a value that breaks the rule is, e.g. "is below zero"
    holds: Callable[[str], bool]
    # The rule as an SQL condition on the value's text ({value}) for the bulk path of
    # records.py; it may refuse more than ``holds`` (the careful path then decides), never less.
    sql: str


NOT_NEGATIVE = Rule("is below zero", lambda text: Decimal(text) >= 0, "left({value}, 1) <> '-'")
IS_WAREHOUSE_CURRENCY = Rule(
    f"is not {WAREHOUSE_CURRENCY}, the warehouse's currency",
    lambda text: text == WAREHOUSE_CURRENCY,
    f"{{value}} = '{WAREHOUSE_CURRENCY}'",
)


@dataclass(frozen=True)
class Field:
    """One raw column. ``path`` locates it in a JSON record (keys), or is its CSV position."""

    column: str
    path: tuple[str | int, ...]
    kind: Kind = Kind.TEXT
    required: bool = False
    rule: Rule | None = None


@dataclass(frozen=True)
class RawTable:
    source: str
    name: str
    folder: str  # glob below the landing folder; `*` in pbx/*/... is the pbx_id
    format: Format
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...]
    description: str
    # Typed columns (timestamp, bigint) checked by the server, so files load by plain COPY
    # (passthrough.py). Others keep every field as text and are typed by the loader.
    server_typed: bool = False

    @property
    def identifier(self) -> str:
        return f"{self.source}_{self.name}"

    @property
    def asset_key(self) -> tuple[str, str]:
        return (self.source, self.name)

    @property
    def folder_depth(self) -> int:
        """How many parts of a landing path name the table's folder (pbx/<pbx_id>/cdr: 3): the
        folder part of a file's identity."""
        return len(PurePosixPath(self.folder).parts)

    @property
    def lookup_key(self) -> tuple[str, ...]:
        """The leading columns of the natural key that are never null (``pbx_id`` and the
        required fields): the raw table's index on them finds every delivery of a record, so
        incremental staging and the checks for a later delivery read the records a load
        touched, not the whole table. The key's other columns are compared null-safely."""
        required = {"pbx_id"} | {f.column for f in self.fields if f.required}
        lookup: list[str] = []
        for column in self.natural_key:
            if column not in required:
                break
            lookup.append(column)
        return tuple(lookup)

    @property
    def records_only(self) -> bool:
        """Stored as the record (``_record``, fields the contract does not use included) and
        its lineage only (records.py): the table named ``storage`` holds them, and a view
        named ``identifier`` gives the fields as columns. JSON lines (and CallRail pages on
        one line) then load by plain COPY into ``_record``."""
        return self.format in (Format.JSONL, Format.CALLRAIL)

    @property
    def storage(self) -> str:
        """The table the rows are stored in (the view's, for a records-only table)."""
        return f"{self.identifier}__records" if self.records_only else self.identifier

    @property
    def positional(self) -> bool:
        """Fields are located by position in a delimited line (not by keys in JSON)."""
        return self.format in (Format.ASTERISK_CDR, Format.ASTERISK_QUEUE_LOG)

    @property
    def has_pbx_id(self) -> bool:
        return self.positional  # the PBX files live in pbx/<pbx_id>/

    @property
    def columns(self) -> list[str]:
        """The raw table's (or view's) data columns, in order (lineage columns excluded)."""
        cols = ["pbx_id"] if self.has_pbx_id else []
        cols += [f.column for f in self.fields]
        if self.records_only:
            cols.append("_record")
        return cols


def _f(
    column: str,
    *path: str | int,
    kind: Kind = Kind.TEXT,
    required: bool = False,
    rule: Rule | None = None,
) -> Field:
    return Field(column, path or (column,), kind, required, rule)


def _money(prefix: str, key: str) -> tuple[Field, Field]:
    """A Square Money object: an amount in the smallest unit, never below zero (a refund is
    its own object, not a negative payment), in the warehouse's currency."""
    return (
        _f(f"{prefix}_amount", key, "amount", kind=Kind.INTEGER, rule=NOT_NEGATIVE),
        _f(f"{prefix}_currency", key, "currency", rule=IS_WAREHOUSE_CURRENCY),
    )


CALLRAIL_CALLS = RawTable(
    source="callrail",
    name="calls",
    folder="tracking/callrail",
    format=Format.CALLRAIL,
    natural_key=("id",),
    description="CallRail API v3 call objects (pages, JSON lines or CSV).",
    fields=(
        _f("id", required=True),
        _f("start_time", kind=Kind.TIMESTAMP, required=True),
        _f("direction", required=True),
        _f("answered", kind=Kind.BOOLEAN),
        _f("voicemail", kind=Kind.BOOLEAN),
        _f("call_type"),
        _f("duration", kind=Kind.INTEGER),
        _f("customer_phone_number"),
        _f("customer_name"),
        _f("customer_city"),
        _f("customer_state"),
        _f("tracking_phone_number"),
        _f("business_phone_number"),
        _f("company_id", required=True),
        _f("company_name"),
        _f("company_time_zone"),
        _f("tracker_id"),
        _f("source"),
        _f("medium"),
        _f("campaign"),
        _f("keywords"),
        _f("landing_page_url"),
        _f("first_call", kind=Kind.BOOLEAN),
        _f("lead_status"),
        _f("value"),
        _f("tags", kind=Kind.JSON),
        _f("agent_email"),
    ),
)

_CDR_COLUMNS = (
    ("accountcode", Kind.TEXT),
    ("src", Kind.TEXT),
    ("dst", Kind.TEXT),
    ("dcontext", Kind.TEXT),
    ("clid", Kind.TEXT),
    ("channel", Kind.TEXT),
    ("dstchannel", Kind.TEXT),
    ("lastapp", Kind.TEXT),
    ("lastdata", Kind.TEXT),
    ("start", Kind.LOCAL_TIMESTAMP),
    ("answer", Kind.LOCAL_TIMESTAMP),
    ("end", Kind.LOCAL_TIMESTAMP),
    ("duration", Kind.INTEGER),
    ("billsec", Kind.INTEGER),
    ("disposition", Kind.TEXT),
    ("amaflags", Kind.TEXT),
    ("uniqueid", Kind.TEXT),
    ("userfield", Kind.TEXT),
    ("peeraccount", Kind.TEXT),
    ("linkedid", Kind.TEXT),
    ("sequence", Kind.INTEGER),
)
_CDR_REQUIRED = {"start", "end", "disposition", "uniqueid", "linkedid", "channel"}

ASTERISK_CDR = RawTable(
    source="asterisk",
    name="cdr",
    folder="pbx/*/cdr",
    format=Format.ASTERISK_CDR,
    natural_key=("pbx_id", "uniqueid", "sequence"),
    description="Asterisk cdr-csv Master.csv records (21 columns, no header), one row per leg.",
    server_typed=True,
    fields=tuple(
        Field(f"cdr_{name}" if name == "end" else name, (i,), kind, name in _CDR_REQUIRED)
        for i, (name, kind) in enumerate(_CDR_COLUMNS)
    ),
)

# The queue_log events of docs/sources.md. Other events are loaded too (kept, not fatal); the GX
# suite warns about them and staging flags them (is_known_event).
QUEUE_LOG_EVENTS = (
    "ENTERQUEUE", "CONNECT", "COMPLETEAGENT", "COMPLETECALLER", "ABANDON", "EXITEMPTY",
    "EXITWITHTIMEOUT", "EXITWITHKEY", "RINGNOANSWER", "RINGCANCELED", "TRANSFER",
    "BLINDTRANSFER", "ATTENDEDTRANSFER", "DID", "AGENTLOGIN", "AGENTLOGOFF", "ADDMEMBER",
    "REMOVEMEMBER", "PAUSE", "UNPAUSE", "PAUSEALL", "UNPAUSEALL", "CONFIGRELOAD", "QUEUESTART",
    "JOINEMPTY",
)  # fmt: skip

ASTERISK_QUEUE_LOG = RawTable(
    source="asterisk",
    name="queue_log",
    folder="pbx/*/queue_log",
    format=Format.ASTERISK_QUEUE_LOG,
    natural_key=(
        "pbx_id",
        "epoch",
        "callid",
        "queuename",
        "agent",
        "event",
        "data1",
        "data2",
        "data3",
        "data4",
        "data5",
    ),
    description="Asterisk queue_log events: epoch|callid|queuename|agent|event|data1..data5.",
    fields=(
        Field("epoch", (0,), Kind.EPOCH, True),
        Field("callid", (1,), Kind.TEXT, True),
        Field("queuename", (2,), Kind.TEXT, True),
        Field("agent", (3,), Kind.TEXT, False),
        Field("event", (4,), Kind.TEXT, True),
        *(Field(f"data{i}", (4 + i,), Kind.TEXT, False) for i in range(1, 6)),
    ),
)

SQUARE_PAYMENTS = RawTable(
    source="square",
    name="payments",
    folder="pos/square/payments",
    format=Format.JSONL,
    natural_key=("id",),
    description="Square Payment objects; amounts in the smallest currency unit (cents).",
    fields=(
        _f("id", required=True),
        _f("created_at", kind=Kind.TIMESTAMP, required=True),
        _f("updated_at", kind=Kind.TIMESTAMP),
        *_money("amount_money", "amount_money"),
        *_money("tip_money", "tip_money"),
        *_money("total_money", "total_money"),
        *_money("refunded_money", "refunded_money"),
        _f("status", required=True),
        _f("source_type"),
        _f("location_id", required=True),
        _f("order_id"),
        _f("customer_id"),
        _f("receipt_number"),
    ),
)

SQUARE_REFUNDS = RawTable(
    source="square",
    name="refunds",
    folder="pos/square/refunds",
    format=Format.JSONL,
    natural_key=("id",),
    description="Square PaymentRefund objects.",
    fields=(
        _f("id", required=True),
        _f("payment_id", required=True),
        *_money("amount_money", "amount_money"),
        _f("status", required=True),
        _f("location_id"),
        _f("created_at", kind=Kind.TIMESTAMP, required=True),
        _f("updated_at", kind=Kind.TIMESTAMP),
    ),
)

SQUARE_CUSTOMERS = RawTable(
    source="square",
    name="customers",
    folder="pos/square/customers",
    format=Format.JSONL,
    natural_key=("id",),
    description="Square Customer objects; phone_number is free text as typed.",
    fields=(
        _f("id", required=True),
        _f("given_name"),
        _f("family_name"),
        _f("phone_number"),
        _f("email_address"),
        _f("created_at", kind=Kind.TIMESTAMP),
        _f("updated_at", kind=Kind.TIMESTAMP),
    ),
)


def _hubspot_common() -> tuple[Field, ...]:
    return (
        _f("created_at", "createdAt", kind=Kind.TIMESTAMP),
        _f("updated_at", "updatedAt", kind=Kind.TIMESTAMP, required=True),
        _f("archived", kind=Kind.BOOLEAN),
    )


HUBSPOT_CONTACTS = RawTable(
    source="hubspot",
    name="contacts",
    folder="crm/hubspot/contacts",
    format=Format.JSONL,
    natural_key=("id", "updated_at"),
    description="HubSpot CRM v3 contact objects (property values are strings or null).",
    fields=(
        _f("id", required=True),
        *(
            _f(p, "properties", p)
            for p in ("firstname", "lastname", "phone", "mobilephone", "email")
        ),
        _f("createdate", "properties", "createdate", kind=Kind.TIMESTAMP),
        _f("lifecyclestage", "properties", "lifecyclestage"),
        _f("hs_lead_status", "properties", "hs_lead_status"),
        *_hubspot_common(),
    ),
)

HUBSPOT_DEALS = RawTable(
    source="hubspot",
    name="deals",
    folder="crm/hubspot/deals",
    format=Format.JSONL,
    natural_key=("id", "updated_at"),
    description="HubSpot CRM v3 deal objects with their contact associations.",
    fields=(
        _f("id", required=True),
        _f("dealname", "properties", "dealname"),
        _f("dealstage", "properties", "dealstage"),
        _f("pipeline", "properties", "pipeline"),
        _f("amount", "properties", "amount", kind=Kind.DECIMAL),
        _f("closedate", "properties", "closedate", kind=Kind.TIMESTAMP),
        _f("createdate", "properties", "createdate", kind=Kind.TIMESTAMP),
        _f("hs_is_closed_won", "properties", "hs_is_closed_won", kind=Kind.BOOLEAN),
        _f("contact_associations", "associations", "contacts", "results", kind=Kind.JSON),
        *_hubspot_common(),
    ),
)

RAW_TABLES: tuple[RawTable, ...] = (
    CALLRAIL_CALLS,
    ASTERISK_CDR,
    ASTERISK_QUEUE_LOG,
    SQUARE_PAYMENTS,
    SQUARE_REFUNDS,
    SQUARE_CUSTOMERS,
    HUBSPOT_CONTACTS,
    HUBSPOT_DEALS,
)


def table_by_key(source: str, name: str) -> RawTable:
    for table in RAW_TABLES:
        if table.asset_key == (source, name):
            return table
    raise KeyError(f"no raw table {source}.{name}")
