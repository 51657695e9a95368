"""raw.square_refunds: Square PaymentRefund objects (amounts in cents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "square_refunds"
STATUSES = ("PENDING", "COMPLETED", "REJECTED", "FAILED")


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id, payment_id, status, created_at
            r.one_of("status", STATUSES),
            r.iso_timestamp("created_at"),
            r.present("amount_money_amount"),
            r.non_negative_integer("amount_money_amount"),
            r.one_of("amount_money_currency", ["USD"]),
        ],
    )
