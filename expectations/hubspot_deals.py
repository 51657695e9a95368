"""raw.hubspot_deals: HubSpot CRM v3 deal objects with their contact associations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "hubspot_deals"


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id, updated_at
            r.matches("id", r.NON_NEGATIVE_INTEGER, "a numeric HubSpot id"),
            r.iso_timestamp("updated_at"),
            # amount is a decimal string in dollars; the loader accepts any finite decimal
            # (1e3, -5), staging sums it as money.
            r.matches("amount", r.NON_NEGATIVE_DECIMAL, "a non-negative decimal amount"),
            r.iso_timestamp("closedate"),
        ],
    )
