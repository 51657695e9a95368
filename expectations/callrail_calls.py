"""raw.callrail_calls: CallRail API v3 call objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "callrail_calls"
DIRECTIONS = ("inbound", "outbound")
CALL_TYPES = ("first_call", "answered", "missed", "voicemail", "abandoned", "outbound")


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id, start_time, direction, company_id
            r.one_of("direction", DIRECTIONS),
            r.iso_timestamp("start_time"),
            r.non_negative_integer("duration"),
            # Withheld caller ids exist, so a few inbound calls have no number; many do not.
            r.present(
                "customer_phone_number",
                when=("direction", "inbound"),
                mostly=0.95,
                description="customer_phone_number is present on inbound calls (95% at least)",
            ),
            r.not_blank(
                "customer_phone_number",
                when=("direction", "inbound"),
                mostly=0.95,
                description="customer_phone_number is not blank on inbound calls (95% at least)",
            ),
            # CallRail adds call types now and then: a new one is a warning, not a stop.
            r.one_of("call_type", CALL_TYPES, mostly=0.99, severity="warning"),
        ],
    )
