"""Phone numbers: callers' national numbers and the many ways they are written down.

A caller is a 10-digit NANP national number held as an int (``NPA NXX XXXX``). Caller number
``j`` maps to a unique exchange/line pair through an affine permutation, so two callers never
share a number inside an area code (and, since the permutation is global, never at all).

About 2 % of genuine callers have valid numbers that look like spam: one in
``LOOKALIKE_EVERY`` takes an area code spam uses (:data:`SPAM_NPAS`), another one in
``LOOKALIKE_EVERY`` a toll-free one (:data:`TOLL_FREE_NPAS`), keeping its exchange and line,
so the number stays unique. Spam numbers never take an exchange/line such a caller can have
(:func:`avoid_lookalikes`). Neither the number nor its look makes a call spam.
"""

from __future__ import annotations

import numpy as np

_SPACE = 800 * 10_000  # exchanges 200..999 x lines 0000..9999
_MULT = 2_718_283  # coprime with _SPACE (odd, not a multiple of 5)
# Area codes robocalls use in the generated data (CallRail tags those calls spam).
SPAM_NPAS = np.array([201, 646, 888, 877, 469, 786, 208, 564])
TOLL_FREE_NPAS = np.array([800, 866, 855, 844, 833])
LOOKALIKE_EVERY = 97  # x % 97 == 0: a spam area code; == 1: a toll-free one
_EXCHANGE_555 = 355  # x // 10_000 of exchange 555, which callers are moved off


def caller_numbers(npa: np.ndarray, caller: np.ndarray, salt: int) -> np.ndarray:
    """National 10-digit numbers for global caller indexes (int64)."""
    x = (caller.astype(np.int64) * _MULT + salt) % _SPACE
    exchange = 200 + x // 10_000
    # 555 is the fictional exchange used by the businesses themselves: move callers off it.
    exchange = np.where(exchange == 555, 556, exchange)
    npa = npa.astype(np.int64)
    which = x % LOOKALIKE_EVERY
    turn = x // LOOKALIKE_EVERY
    lookalike = (which < 2) & (x // 10_000 != _EXCHANGE_555)
    npa = np.where(
        lookalike & (which == 0),
        SPAM_NPAS[turn % len(SPAM_NPAS)],
        np.where(lookalike, TOLL_FREE_NPAS[turn % len(TOLL_FREE_NPAS)], npa),
    )
    return npa * 10_000_000 + exchange * 10_000 + x % 10_000


def avoid_lookalikes(numbers: np.ndarray) -> np.ndarray:
    """Spam numbers (exchange/line drawn from 200 0000 up) moved off the exchange/line pairs
    of genuine callers with a spam area code (x % LOOKALIKE_EVERY == 0), so a robocall never
    shares a genuine caller's number."""
    x = numbers % 10_000_000 - 2_000_000
    return np.where(x % LOOKALIKE_EVERY == 0, numbers + 1, numbers)


def repeated_digits(d: int) -> int:
    """The number made of one digit ten times (2222222222 for 2): valid, and spam-like."""
    return d * 1_111_111_111


def e164(national: int) -> str:
    return f"+1{national}"


def carrier_format(national: int, style: int) -> str:
    """Caller id as a carrier presents it on a SIP trunk."""
    if style == 0:
        return f"+1{national}"
    if style == 1:
        return f"1{national}"
    return str(national)


def typed_format(national: int, style: int) -> str:
    """A phone number as a person types it into a POS or CRM form."""
    s = str(national)
    a, b, c = s[:3], s[3:6], s[6:]
    forms = (
        f"+1 ({a}) {b}-{c}",
        f"{a}.{b}.{c}",
        f"1{s}",
        f"({a}) {b}-{c}",
        f"{a}-{b}-{c}",
        f"+1{s}",
        f"({a}) {b}-{c} ext {10 + national % 80}",
        f"{a} {b} {c}",
        f"+1-{a}-{b}-{c}",
        s,
    )
    return forms[style % len(forms)]


INTERNATIONAL = (
    "+44 20 7946 0958",
    "+44 161 496 0123",
    "+49 30 901820",
    "+33 1 99 00 12 34",
    "+52 55 1234 5678",
    "+61 2 9876 5432",
)

JUNK_CALLER_IDS = ("anonymous", "Anonymous", "Restricted", "", "0", "1234", "266696687", "000000")
