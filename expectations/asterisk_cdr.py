"""raw.asterisk_cdr: Asterisk cdr-csv (Master.csv) records, one row per call leg."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "asterisk_cdr"
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")


def build_suite() -> gx.ExpectationSuite:
    # The raw CDR table is typed (timestamps, bigints) by the loader's COPY, so the formats are
    # enforced at load; the suite checks what the types cannot.
    duration, billsec = r.quote("duration"), r.quote("billsec")
    return r.suite(
        IDENTIFIER,
        [
            # pbx_id, start, cdr_end, disposition, uniqueid, linkedid, channel
            *r.required_present(IDENTIFIER),
            r.one_of("disposition", DISPOSITIONS),
            r.rows_where("duration is not negative", f"{duration} < 0", ["duration"]),
            r.rows_where("billsec is not negative", f"{billsec} < 0", ["billsec"]),
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
            r.rows_where(
                "a leg does not end before it starts", '"cdr_end" < "start"', ["start", "cdr_end"]
            ),
        ],
    )
