"""raw.asterisk_cdr: Asterisk cdr-csv (Master.csv) records, one row per call leg."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "asterisk_cdr"
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


def build_suite() -> gx.ExpectationSuite:
    duration, billsec = r.as_number("duration"), r.as_number("billsec")
    return r.suite(
        IDENTIFIER,
        [
            # pbx_id, start, cdr_end, disposition, uniqueid, linkedid, channel
            *r.required_present(IDENTIFIER),
            r.one_of("disposition", DISPOSITIONS),
            r.local_timestamp("start"),
            r.local_timestamp("answer"),
            r.local_timestamp("cdr_end"),
            r.non_negative_integer("duration"),
            r.non_negative_integer("billsec"),
            r.rows_where(
                "billsec (talk time) is not greater than duration (whole leg)",
                f"{billsec} > {duration}",
                ["duration", "billsec"],
            ),
            # Asterisk only bills answered legs; talk time on another disposition means the
            # disposition or billsec is wrong, and answered-call counts would be off.
            r.rows_where(
                "legs with billsec > 0 are ANSWERED",
                f"{billsec} > 0 and disposition <> 'ANSWERED'",
                ["disposition", "billsec"],
            ),
        ],
    )
