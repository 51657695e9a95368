"""raw.asterisk_queue_log: Asterisk queue_log events."""

from __future__ import annotations

from typing import TYPE_CHECKING

from callshrink.ingest.tables import QUEUE_LOG_EVENTS
from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "asterisk_queue_log"
# The events of docs/sources.md. Others are kept, not fatal: a warning once they pass 1% of rows.
EVENTS = QUEUE_LOG_EVENTS


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # pbx_id, epoch, callid, queuename, event
            r.non_negative_integer("epoch"),
            r.one_of(
                "event",
                EVENTS,
                mostly=0.99,
                severity="warning",
                description="event is a known queue_log event (99% at least; others are kept)",
            ),
        ],
    )
