"""Square payments, refunds and customers; HubSpot contacts and deals.

Purchases come from :mod:`sim` (answered would-buy callers, walk-ins, won and lost deals). This
module decides the vendor details (status, tip, refunds, customer records) and renders JSON
lines. It also records, per money record, what the answer key needs (phone, location, time,
amount, status) in plain lists.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import time
from array import array
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callshrink.generate import sim
from callshrink.generate.names import person
from callshrink.generate.phones import INTERNATIONAL, typed_format
from callshrink.generate.reference import Location
from callshrink.generate.sim import CALLER_SPACE
from callshrink.generate.table import Seen, Table

_ID_CHARS = bytes.maketrans(b"+/=", b"QzK")


def square_id(*parts: object, n: int = 22) -> str:
    """A stable Square-looking id (letters and digits) for ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=24).digest()
    return base64.b64encode(digest).translate(_ID_CHARS)[:n].decode()


def utc_ms(epoch: int, millis: int = 0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{millis:03d}Z"


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":")) + "\n"


def money(cents: int) -> dict[str, Any]:
    return {"amount": int(cents), "currency": "USD"}


def deal_amount(cents: int) -> str:
    """HubSpot keeps the amount as typed: whole dollars without decimals."""
    whole, frac = divmod(int(cents), 100)
    return str(whole) if frac == 0 else f"{whole}.{frac:02d}"


PAYMENT, REFUND, DEAL = range(3)
KIND_NAMES = ("payment", "refund", "deal")
# Status codes; 0 is the one that counts as revenue (COMPLETED / closedwon).
STATUS_CODES = {
    "COMPLETED": 0,
    "FAILED": 1,
    "CANCELED": 2,
    "APPROVED": 3,
    "PENDING": 4,
    "REJECTED": 5,
    "closedwon": 0,
    "closedlost": 6,
}
FOLDERS = ("pos/square/payments/payments", "pos/square/refunds/refunds", "crm/hubspot/deals/deals")

# What happens to a payment, as cumulative odds of one uniform roll each (the answer key values
# lost purchases with the same numbers, :func:`expected_purchase_value`).
FAILED_BELOW, CANCELED_BELOW, APPROVED_BELOW = 0.03, 0.05, 0.06  # status roll; else COMPLETED
NO_CUSTOMER_BELOW = 0.05  # rung up without a customer record (calls' purchases only)
REFUNDED_BELOW, FULL_REFUND_BELOW = 0.05, 0.025  # refund roll: refunded, of those in full
PARTIAL_REFUND_PERCENT = (10, 60)  # a partial refund's percentage, integers in [low, high)
REFUND_REJECTED_ABOVE, REFUND_PENDING_ABOVE = 0.97, 0.90  # refund status roll; else COMPLETED
# People whose records never carry the number they call from (every n-th person).
NO_CUSTOMER_PHONE_EVERY = 13  # Square customer without a phone
FOREIGN_PHONE_EVERY = 20  # Square customer with a foreign number (person_index % 20 == 1)
NO_CONTACT_PHONE_EVERY = 17  # HubSpot contact with neither phone nor mobile phone


def payment_id(seed: int, seq: int) -> str:
    return square_id("pay", seed, seq)


def refund_id(pid: str) -> str:
    return f"{pid}_{square_id('ref', pid, n=22)}"


def deal_id(seq: int) -> str:
    return str(20_000_000_000 + seq * 7)


class MoneyLog:
    """Every payment, refund and deal as the answer key sees it, in compact int columns
    (ids and file names are derived from seq and step when needed)."""

    COLUMNS = (
        "kind",
        "seq",
        "step",
        "line",
        "loc",
        "phone",
        "t",
        "amount",
        "status",
        "pay_seq",
        "call_key",
        "intent",
    )

    def __init__(self, seed: int, start: dt.date) -> None:
        self.seed = seed
        self.start = start
        self.cols = {name: array("q") for name in self.COLUMNS}

    def add(self, **values: int) -> None:
        for name in self.COLUMNS:
            self.cols[name].append(int(values.get(name, -1)))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            k: np.frombuffer(v, dtype=np.int64).copy() if len(v) else np.zeros(0, np.int64)
            for k, v in self.cols.items()
        }

    def take(self) -> dict[str, np.ndarray]:
        """The records added since the last call (as :meth:`arrays`); forgets them."""
        out = self.arrays()
        self.cols = {name: array("q") for name in self.COLUMNS}
        return out

    def record_id(self, kind: int, seq: int, pay_seq: int) -> str:
        if kind == PAYMENT:
            return payment_id(self.seed, seq)
        if kind == REFUND:
            return refund_id(payment_id(self.seed, pay_seq))
        return deal_id(seq)

    def file(self, kind: int, step: int) -> str:
        return f"{FOLDERS[kind]}_{(self.start + dt.timedelta(days=step)).isoformat()}.jsonl"


@dataclass
class CommerceState:
    seed: int
    t0: int
    t_end: int
    customers: Seen = field(default_factory=lambda: Seen(CALLER_SPACE))
    contacts: Seen = field(default_factory=lambda: Seen(CALLER_SPACE))
    payment_counter: int = 0
    deal_counter: int = 0
    log: MoneyLog | None = None
    pending_refunds: dict[int, list[tuple[int, dict[str, Any], dict[str, int]]]] = field(
        default_factory=dict
    )


def customer_id(seed: int, person_index: int) -> str:
    return square_id("cust", seed, person_index, n=26).upper()


def contact_id(person_index: int) -> str:
    return str(100_000_000 + person_index * 3 + 1)


def _customer_phone(person_index: int, national: int) -> tuple[str | None, int]:
    """(phone_number as typed, national number it normalises to or 0).

    A property of the person, not of the purchase: the customer record is written once, at
    the person's first purchase, and every later payment reaches the caller (or not) through
    that same record."""
    if person_index % NO_CUSTOMER_PHONE_EVERY == 0:
        return None, 0
    if person_index % FOREIGN_PHONE_EVERY == 1:  # a foreign number the calls never show
        return INTERNATIONAL[person_index % len(INTERNATIONAL)], 0
    return typed_format(national, person_index * 7 + 3), national


def expected_purchase_value(
    person_index: np.ndarray, ticket: np.ndarray, deal_share: float
) -> tuple[np.ndarray, np.ndarray]:
    """What the purchase a would-buy caller makes when answered is expected to bring, in
    cents (float): ``(booked, attributable)``.

    The purchase is a Square payment of the ticket or, with ``deal_share``, a won HubSpot deal
    of ``DEAL_TICKET_MULTIPLE`` tickets (:func:`sim.purchases_from_calls`). *Booked* is the
    revenue it adds to the books: a payment counts when COMPLETED, less its expected COMPLETED
    refund; a deal counts in full. *Attributable* is the part whose record reaches the caller's
    number, so that attribution can credit it to a call: a payment with a customer record (not
    rung up without one) whose customer has the person's own number; a deal whose contact has a
    phone. Expectations are over the per-purchase rolls above; the person (and so whether the
    records carry a number) and the ticket are given.
    """
    low, high = PARTIAL_REFUND_PERCENT
    partial_share = (low + high - 1) / 2 / 100  # mean of the integers in [low, high)
    refunded = FULL_REFUND_BELOW + (REFUNDED_BELOW - FULL_REFUND_BELOW) * partial_share
    # COMPLETED (a status roll of APPROVED_BELOW or more), less a refund that completes (a
    # refund status roll of REFUND_PENDING_ABOVE or less)
    payment = (1 - APPROVED_BELOW) * (1 - refunded * REFUND_PENDING_ABOVE)
    deal = float(sim.DEAL_TICKET_MULTIPLE)
    customer_has_number = (person_index % NO_CUSTOMER_PHONE_EVERY != 0) & (
        person_index % FOREIGN_PHONE_EVERY != 1
    )
    contact_has_number = person_index % NO_CONTACT_PHONE_EVERY != 0
    ticket = ticket.astype(np.float64)
    booked = ticket * ((1 - deal_share) * payment + deal_share * deal)
    attributable = ticket * (
        (1 - deal_share) * payment * (1 - NO_CUSTOMER_BELOW) * customer_has_number
        + deal_share * deal * contact_has_number
    )
    return booked, attributable


class CommerceDay:
    """Renders one step's purchases and the refunds that fall in it."""

    def __init__(self, state: CommerceState, locs: list[Location], step: int) -> None:
        self.s = state
        self.locs = locs
        self.step = step
        self.payments: list[str] = []
        self.refunds: list[str] = []
        self.customers: list[str] = []
        self.contacts: list[str] = []
        self.deals: list[str] = []
        assert state.log is not None
        self.log = state.log

    def add(self, rng: np.random.Generator, purchases: Table) -> None:
        order = np.lexsort((purchases["caller"], purchases["t"]))
        p = purchases.take(order)
        n = len(p)
        status_roll = rng.random(n)
        tip_roll = rng.random(n)
        tip_pct = rng.integers(10, 21, n)
        refund_roll = rng.random(n)
        refund_delay = rng.integers(86_400, 5 * 86_400, n)
        refund_pct = rng.integers(*PARTIAL_REFUND_PERCENT, n)
        refund_status_roll = rng.random(n)
        no_customer = rng.random(n)
        millis = rng.integers(0, 1000, n)
        for i, row in enumerate(pr for pr in _rows(p)):
            kind = row["kind"]
            if kind == sim.PURCHASE_SQUARE:
                self._payment(
                    row,
                    float(status_roll[i]),
                    float(tip_roll[i]),
                    int(tip_pct[i]),
                    float(refund_roll[i]),
                    int(refund_delay[i]),
                    int(refund_pct[i]),
                    float(refund_status_roll[i]),
                    float(no_customer[i]),
                    int(millis[i]),
                )
            else:
                self._deal(row, int(millis[i]))

    def _payment(
        self,
        row: dict,
        status_roll: float,
        tip_roll: float,
        tip_pct: int,
        refund_roll: float,
        refund_delay: int,
        refund_pct: int,
        refund_status_roll: float,
        no_customer: float,
        millis: int,
    ) -> None:
        s = self.s
        s.payment_counter += 1
        loc = self.locs[row["loc"]]
        pid = payment_id(s.seed, s.payment_counter)
        t, amount = int(row["t"]), int(row["amount"])
        status = "COMPLETED"
        if status_roll < FAILED_BELOW:
            status = "FAILED"
        elif status_roll < CANCELED_BELOW:
            status = "CANCELED"
        elif status_roll < APPROVED_BELOW:
            status = "APPROVED"
        tip = amount * tip_pct // 100 if tip_roll < 0.3 else 0
        obj: dict[str, Any] = {
            "id": pid,
            "created_at": utc_ms(t, millis),
            "updated_at": utc_ms(t + 2, millis),
            "amount_money": money(amount),
        }
        if tip:
            obj["tip_money"] = money(tip)
        obj["total_money"] = money(amount + tip)
        obj["status"] = status
        obj["source_type"] = "CARD" if row["phone"] % 5 else "CASH"
        obj["location_id"] = loc.square_location_id
        obj["order_id"] = square_id("ord", s.seed, s.payment_counter, n=24)
        phone = 0
        person_index = int(row["caller"])
        walk_in = row["call_key"] < 0
        if person_index >= 0 and (walk_in or no_customer >= NO_CUSTOMER_BELOW):
            cid = customer_id(s.seed, person_index)
            obj["customer_id"] = cid
            typed, phone = _customer_phone(person_index, int(row["phone"]))
            if s.customers.first(person_index):
                self._customer(cid, person_index, typed, t - 60, millis)
        obj["receipt_number"] = pid[:4]
        record = {
            "kind": PAYMENT,
            "seq": s.payment_counter,
            "step": self.step,
            "line": len(self.payments) + 1,
            "loc": row["loc"],
            "phone": phone,
            "t": t,
            "amount": amount,
            "status": STATUS_CODES[status],
            "call_key": row["call_key"],
            "intent": row["intent"],
        }
        refund_t = t + refund_delay
        if status == "COMPLETED" and refund_roll < REFUNDED_BELOW and refund_t < s.t_end:
            refund_amount = (
                amount if refund_roll < FULL_REFUND_BELOW else amount * refund_pct // 100
            )
            r_status = "COMPLETED"
            if refund_status_roll > REFUND_REJECTED_ABOVE:
                r_status = "REJECTED"
            elif refund_status_roll > REFUND_PENDING_ABOVE:
                r_status = "PENDING"
            if r_status == "COMPLETED":
                obj["refunded_money"] = money(refund_amount)
                obj["updated_at"] = utc_ms(refund_t, millis)
            self._queue_refund(pid, loc, row, refund_t, refund_amount, r_status, millis)
        self.payments.append(dumps(obj))
        self.log.add(**record)

    def _queue_refund(
        self, pid: str, loc: Location, row: dict, t: int, amount: int, status: str, millis: int
    ) -> None:
        s = self.s
        rid = refund_id(pid)
        obj = {
            "id": rid,
            "status": status,
            "amount_money": money(amount),
            "payment_id": pid,
            "location_id": loc.square_location_id,
            "reason": "Customer request",
            "created_at": utc_ms(t, millis),
            "updated_at": utc_ms(t + 30, millis),
        }
        rec = {
            "kind": REFUND,
            "seq": 0,
            "loc": row["loc"],
            "phone": 0,
            "t": t,
            "amount": amount,
            "status": STATUS_CODES[status],
            "pay_seq": s.payment_counter,
        }
        step = (t - s.t0) // 86_400
        s.pending_refunds.setdefault(int(step), []).append((t, obj, rec))

    def flush_refunds(self) -> None:
        due = sorted(self.s.pending_refunds.pop(self.step, []), key=lambda r: (r[0], r[1]["id"]))
        for _, obj, rec in due:
            self.refunds.append(dumps(obj))
            self.log.add(step=self.step, line=len(self.refunds), **rec)

    def _customer(
        self, cid: str, person_index: int, typed: str | None, t: int, millis: int
    ) -> None:
        first, last = person(person_index)
        obj: dict[str, Any] = {
            "id": cid,
            "created_at": utc_ms(t, millis),
            "updated_at": utc_ms(t, millis),
            "given_name": first,
            "family_name": last,
        }
        if person_index % 2 == 0:
            obj["email_address"] = f"{first}.{last}{person_index % 1000}@example.com".lower()
        if typed is not None:
            obj["phone_number"] = typed
        obj["preferences"] = {"email_unsubscribed": False}
        obj["creation_source"] = "DIRECTORY" if person_index % 3 else "THIRD_PARTY"
        self.customers.append(dumps(obj))

    def _deal(self, row: dict, millis: int) -> None:
        s = self.s
        s.deal_counter += 1
        person_index = int(row["caller"])
        won = row["kind"] == sim.PURCHASE_DEAL
        loc = self.locs[row["loc"]]
        _, last = person(person_index)
        cid = contact_id(person_index)
        phone = self._contact(cid, person_index, int(row["phone"]), int(row["created"]), millis)
        did = deal_id(s.deal_counter)
        created, closed = int(row["created"]), int(row["t"])
        amount = int(row["amount"])
        obj = {
            "id": did,
            "properties": {
                "amount": deal_amount(amount),
                "closedate": utc_ms(closed, millis),
                "createdate": utc_ms(created, millis),
                "dealname": f"{last} - {loc.name}",
                "dealstage": "closedwon" if won else "closedlost",
                "pipeline": "default",
                "hs_is_closed_won": "true" if won else "false",
                "hs_lastmodifieddate": utc_ms(closed + 5, millis),
                "hs_object_id": did,
            },
            "createdAt": utc_ms(created, millis),
            "updatedAt": utc_ms(closed + 5, millis),
            "archived": False,
            "associations": {"contacts": {"results": [{"id": cid, "type": "deal_to_contact"}]}},
        }
        self.deals.append(dumps(obj))
        self.log.add(
            kind=DEAL,
            seq=s.deal_counter,
            step=self.step,
            line=len(self.deals),
            loc=-1,
            phone=phone,
            t=closed,
            amount=amount,
            status=STATUS_CODES["closedwon" if won else "closedlost"],
            call_key=row["call_key"],
            intent=row["intent"],
        )

    def _contact(self, cid: str, person_index: int, national: int, t: int, millis: int) -> int:
        """Write the contact the first time it is needed; return its reachable number."""
        typed = typed_format(national, person_index * 3 + 1)
        style = person_index % 10
        no_phone = person_index % NO_CONTACT_PHONE_EVERY == 0
        if self.s.contacts.first(person_index):
            first, last = person(person_index)
            props = {
                "firstname": first,
                "lastname": last,
                "email": f"{first}.{last}{person_index % 997}@example.net".lower(),
                "phone": None if no_phone or style >= 8 else typed,
                "mobilephone": None if no_phone or style < 6 else typed,
                "createdate": utc_ms(t, millis),
                "lifecyclestage": "customer" if person_index % 4 else "opportunity",
                "hs_lead_status": "CONNECTED",
                "hs_object_id": cid,
            }
            self.contacts.append(
                dumps(
                    {
                        "id": cid,
                        "properties": props,
                        "createdAt": utc_ms(t, millis),
                        "updatedAt": utc_ms(t + 3600, millis),
                        "archived": False,
                    }
                )
            )
        return 0 if no_phone else national


def _rows(table: Table) -> list[dict]:
    names = list(table.cols)
    arrays = [table[n].tolist() for n in names]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*arrays, strict=True)]
