"""Data health: whether the warehouse reads each PBX and the crosswalk right.

The figures and their thresholds live in the dbt marts ``data_health`` (one row per PBX and
location, with an ``is_*`` flag per check) and ``pbx_names`` (every channel, context, dialled
number and queue each PBX writes, and what the warehouse makes of it). This module only reads
them and says, in words, which PBX, numbers, queues or channels a flag is about and what to
change. ``callshrink doctor`` prints it; ``callshrink run`` prints the findings at its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from callshrink import settings

WARNING = "warning"
NOTICE = "notice"
NAMES_LISTED = 5  # numbers, queues or channels named per finding


class HealthUnavailable(RuntimeError):
    """The data health marts have not been built yet."""


@dataclass(frozen=True)
class Finding:
    level: str  # WARNING (the numbers are misread) or NOTICE (worth a look)
    pbx_id: str | None
    message: str

    def line(self) -> str:
        return f"{self.level.upper()} {self.pbx_id or '(no pbx)'}: {self.message}"


@dataclass
class HealthReport:
    rows: list[dict]
    names: list[dict]
    findings: list[Finding] = field(default_factory=list)

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    def table(self) -> str:
        header = (
            f"{'pbx':<12}{'location':<14}{'inbound':>9}{'tracked':>9}{'stitched':>10}"
            f"{'unplaced':>10}{'no DID':>8}{'outbound':>10}{'internal':>10}{'consult':>9}"
            f"{'quarantined':>13}"
        )
        lines = [header]
        for row in self.rows:
            lines.append(
                f"{row['pbx_id'] or '(no pbx)':<12}{row['location_id'] or '(none)':<14}"
                f"{row['inbound_calls']:>9}{row['tracked_inbound_calls']:>9}"
                f"{_percent(row['stitch_share']):>10}{_percent(row['unplaced_share']):>10}"
                f"{_percent(row['undialled_share']):>8}{row['outbound_calls']:>10}"
                f"{row['internal_calls']:>10}{row['consult_calls']:>9}"
                f"{row['quarantined_lines']:>13}"
            )
        return "\n".join(lines)

    def text(self) -> str:
        verdict = [] if self.warnings else ["no problems found"]
        return "\n".join([self.table(), "", *verdict, *(f.line() for f in self.findings)])


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f} %"


def _listed(names: list[dict]) -> str:
    shown = [f"{n['written_as']} ({n['seen']:,})" for n in names[:NAMES_LISTED]]
    more = len(names) - NAMES_LISTED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def read(conn: psycopg.Connection, schema: str | None = None) -> HealthReport:
    """The data health marts of the warehouse, with their findings."""
    marts = sql.Identifier(schema or settings.dbt_schema("marts"))
    try:
        with conn.cursor(row_factory=dict_row) as cursor:
            rows = cursor.execute(
                sql.SQL(
                    "select * from {}.data_health "
                    "order by pbx_id nulls last, location_id nulls last"
                ).format(marts)
            ).fetchall()
            names = cursor.execute(
                sql.SQL(
                    "select * from {}.pbx_names order by pbx_id, kind, seen desc, written_as"
                ).format(marts)
            ).fetchall()
    except psycopg.errors.UndefinedTable as error:
        raise HealthUnavailable(
            "no data health yet: the marts data_health and pbx_names are built by `callshrink run`"
        ) from error
    report = HealthReport(rows, names)
    report.findings = _findings(rows, names)
    return report


def _findings(rows: list[dict], names: list[dict]) -> list[Finding]:
    by_pbx: dict[str, list[dict]] = {}
    for name in names:
        by_pbx.setdefault(name["pbx_id"], []).append(name)
    findings: list[Finding] = []
    for row in rows:
        findings += _row_findings(row, by_pbx.get(row["pbx_id"], []))
    for pbx_id, pbx_names in by_pbx.items():
        findings += _name_findings(pbx_id, pbx_names)
    return findings


def _row_findings(row: dict, names: list[dict]) -> list[Finding]:
    pbx, location = row["pbx_id"], row["location_id"]
    out = []
    if row["is_pbx_unconfigured"]:
        out.append(
            Finding(
                WARNING,
                pbx,
                f"{row['pbx_rows_loaded']:,} rows of its files were loaded, but the reference "
                "pbx_systems has no row for it, so none of its calls are read: add "
                f"'{pbx},<IANA time zone of its clock>' to pbx_systems.csv (docs/pbx.md)",
            )
        )
    if row["is_stitch_share_low"]:
        out.append(
            Finding(
                WARNING,
                pbx,
                f"at {location}, {_percent(row['stitch_share'])} of the "
                f"{row['tracked_inbound_calls']:,} calls CallRail tracked were recognised as "
                "calls of the PBX too; the others count twice (once from each system). "
                "The PBX's dialled numbers or queues are probably missing from "
                "location_crosswalk, or its trunks are not recognised (docs/pbx.md)",
            )
        )
    if row["is_unplaced_share_high"]:
        out.append(
            Finding(
                WARNING,
                pbx,
                f"{row['pbx_inbound_calls']:,} inbound calls ({_percent(row['unplaced_share'])}) "
                "have no location: neither CallRail nor the crosswalk places them (the "
                "dialled numbers and queues missing from location_crosswalk are listed "
                "here too). Add the rows, then `callshrink run --full-refresh`",
            )
        )
    if row["is_undialled_share_high"]:
        out.append(
            Finding(
                WARNING,
                pbx,
                f"{_percent(row['undialled_share'])} of the inbound calls"
                + (f" at {location}" if location else "")
                + " carry no dialled number (no queue_log DID event, no dst or userfield that "
                "is a phone number): set dialled_number_from in pbx_systems, or make sure "
                "every queue has a pbx_queue row",
            )
        )
    if row["has_unknown_channels"]:
        unknown = [n for n in names if n["kind"] == "channel" and n["channel_role"] == "unknown"]
        out.append(
            Finding(
                WARNING,
                pbx,
                f"{row['unknown_channel_calls']:,} calls have channels neither the trunk nor "
                f"the phone pattern of pbx_systems matches: {_listed(unknown)}",
            )
        )
    if row["has_long_calls"]:
        out.append(
            Finding(
                WARNING,
                pbx,
                f"{row['long_calls']:,} calls last longer than the dbt var "
                "incremental_lookback_hours, which an incremental build reaches back: raise it "
                "to the longest call, or run callshrink run --full-refresh after late legs of "
                "such a call arrive",
            )
        )
    if row["latin1_lines"]:
        out.append(
            Finding(
                NOTICE,
                pbx,
                f"{row['latin1_lines']:,} lines of its files were not UTF-8 and were read as "
                "Latin-1: set its encoding in pbx_systems to say which it writes",
            )
        )
    if row["quarantined_lines"]:
        out.append(
            Finding(
                NOTICE,
                pbx,
                f"{row['quarantined_lines']:,} lines of its files are in quarantine "
                "(`callshrink quarantine` lists them)",
            )
        )
    return out


def _name_findings(pbx_id: str, names: list[dict]) -> list[Finding]:
    out = []
    for kind, system in (("dialled_number", "pbx_did"), ("queue", "pbx_queue")):
        missing = [
            n
            for n in names
            if n["kind"] == kind and n["written_as"] != "(none)" and not n["location_id"]
        ]
        if missing:
            label = "dialled numbers" if kind == "dialled_number" else "queues"
            out.append(
                Finding(
                    WARNING,
                    pbx_id,
                    f"{label} {_listed(missing)} are not in location_crosswalk ({system})",
                )
            )
    new = [n for n in names if n["is_new"] and n["kind"] in ("channel", "context")]
    if new:
        shown = ", ".join(
            f"{n['kind']} {n['written_as']}"
            + (f" ({n['channel_role']})" if n["channel_role"] else "")
            for n in new[:NAMES_LISTED]
        )
        more = len(new) - NAMES_LISTED
        out.append(
            Finding(
                NOTICE,
                pbx_id,
                f"first seen in the newest days of its data: {shown}"
                + (f" and {more} more" if more > 0 else "")
                + "; check that channels are read as the right role",
            )
        )
    return out
