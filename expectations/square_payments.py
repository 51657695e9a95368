"""raw.square_payments: Square Payment objects (amounts in cents)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "square_payments"
STATUSES = ("APPROVED", "COMPLETED", "CANCELED", "FAILED")
MONEY = ("amount_money", "tip_money", "total_money", "refunded_money")


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id, created_at, status, location_id
            r.one_of("status", STATUSES),
            r.iso_timestamp("created_at"),
            r.iso_timestamp("updated_at"),
            r.present("amount_money_amount"),
            *(r.non_negative_integer(f"{money}_amount") for money in MONEY),
            # Revenue is summed as dollars without conversion: every amount must be USD.
            *(r.one_of(f"{money}_currency", ["USD"]) for money in MONEY),
            r.rows_where(
                "refunded_money is not more than total_money",
                f"{r.as_number('refunded_money_amount')} > {r.as_number('total_money_amount')}",
                ["refunded_money_amount", "total_money_amount"],
            ),
        ],
    )
