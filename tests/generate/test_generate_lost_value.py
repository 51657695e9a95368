"""The answer key values a lost buyer with commerce.expected_purchase_value. Here 20,000
purchases go through the code that renders Square payments, refunds and HubSpot deals, and
what they book (COMPLETED payments less COMPLETED refunds, won deals), and the part whose
records carry the buyer's number, must match that expectation: if the rendering's odds change
and the key's do not, this fails."""

from __future__ import annotations

import numpy as np

from callshrink.generate import commerce, sim
from callshrink.generate.reference import locations

PURCHASES = 20_000
TICKET_CENTS = 12_000
DEAL_SHARE = sim.Params().deal_share


def _render(rng: np.random.Generator, people: np.ndarray) -> dict[str, np.ndarray]:
    """The money records of one purchase per person, as the answer key sees them."""
    n = len(people)
    purchases = sim._empty_purchases(n)
    deal = rng.random(n) < DEAL_SHARE
    purchases["kind"] = np.where(deal, sim.PURCHASE_DEAL, sim.PURCHASE_SQUARE)
    purchases["amount"] = np.where(deal, TICKET_CENTS * sim.DEAL_TICKET_MULTIPLE, TICKET_CENTS)
    purchases["caller"] = people
    purchases["phone"] = 6_175_550_000 + people  # the number the person called from
    purchases["t"] = purchases["created"] = 1_770_000_000 + np.arange(n)
    purchases["call_key"] = np.arange(n)
    log = commerce.MoneyLog(seed=3, start=None)
    state = commerce.CommerceState(seed=3, t0=1_769_990_400, t_end=1_790_000_000, log=log)
    day = commerce.CommerceDay(state, locations(1), step=0)
    day.add(rng, purchases)
    for step in sorted(state.pending_refunds):
        commerce.CommerceDay(state, locations(1), step=step).flush_refunds()
    return log.arrays()


def _booked(records: dict[str, np.ndarray]) -> tuple[int, int]:
    """(booked, booked through records that carry a number) in cents."""
    kind, status, amount = records["kind"], records["status"], records["amount"]
    counts = status == commerce.STATUS_CODES["COMPLETED"]
    phone_of_payment = {
        int(seq): int(phone)
        for seq, phone, k in zip(records["seq"], records["phone"], kind, strict=True)
        if k == commerce.PAYMENT
    }
    reaches = np.array(
        [
            phone_of_payment[int(pay_seq)] > 0 if k == commerce.REFUND else phone > 0
            for k, phone, pay_seq in zip(kind, records["phone"], records["pay_seq"], strict=True)
        ]
    )
    signed = np.where(kind == commerce.REFUND, -amount, amount) * counts
    return int(signed.sum()), int(signed[reaches].sum())


def test_expected_purchase_value_matches_what_the_rendered_records_book():
    rng = np.random.default_rng(5)
    people = rng.integers(0, 5_000_000, PURCHASES)
    booked, attributable = commerce.expected_purchase_value(
        people, np.full(PURCHASES, TICKET_CENTS), DEAL_SHARE
    )
    real_booked, real_attributable = _booked(_render(rng, people))
    # one purchase is worth 1.4 tickets on average with a spread of 1.1 tickets, so 20,000 of
    # them sum to within about 0.6 % of their expectation (1 standard deviation)
    assert abs(real_booked / booked.sum() - 1) < 0.02
    assert abs(real_attributable / attributable.sum() - 1) < 0.02
    # and the part that cannot reach a call is large enough to matter (about 13 %)
    assert 0.8 < attributable.sum() / booked.sum() < 0.95


def test_people_whose_records_never_carry_their_number_bring_no_attributable_square_revenue():
    no_customer_phone = commerce.NO_CUSTOMER_PHONE_EVERY * commerce.NO_CONTACT_PHONE_EVERY + 13
    neither = commerce.NO_CUSTOMER_PHONE_EVERY * commerce.NO_CONTACT_PHONE_EVERY
    people = np.array([no_customer_phone, neither])
    booked, attributable = commerce.expected_purchase_value(
        people, np.full(2, TICKET_CENTS), DEAL_SHARE
    )
    deal_part = TICKET_CENTS * DEAL_SHARE * sim.DEAL_TICKET_MULTIPLE
    assert attributable[0] == deal_part  # the Square payment cannot reach the call
    assert attributable[1] == 0  # neither can the deal
    assert (booked > attributable).all()
