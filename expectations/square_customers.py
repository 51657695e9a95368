"""raw.square_customers: Square Customer objects (phone_number is free text as typed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "square_customers"


def build_suite() -> gx.ExpectationSuite:
    # Phone numbers are free text in every format people type: staging normalises them and
    # an unmatchable one only loses an attribution, so there is no phone rule here.
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id
            r.iso_timestamp("created_at"),
            r.matches(
                "email_address",
                r"^[^@[:space:]]+@[^@[:space:]]+$",
                "an email address",
                mostly=0.99,
                severity="warning",
            ),
        ],
    )
