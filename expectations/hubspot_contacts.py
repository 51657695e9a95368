"""raw.hubspot_contacts: HubSpot CRM v3 contact objects (one row per version)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations import _rules as r

if TYPE_CHECKING:
    import great_expectations as gx

IDENTIFIER = "hubspot_contacts"


def build_suite() -> gx.ExpectationSuite:
    return r.suite(
        IDENTIFIER,
        [
            *r.required_present(IDENTIFIER),  # id, updated_at
            # HubSpot object ids are numeric; deals associate contacts by this id.
            r.matches("id", r.NON_NEGATIVE_INTEGER, "a numeric HubSpot id"),
            r.iso_timestamp("updated_at"),
            r.iso_timestamp("created_at"),
        ],
    )
