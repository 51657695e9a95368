"""Phone numbers: callers' national numbers and the many ways they are written down.

A caller is a 10-digit NANP national number held as an int (``NPA NXX XXXX``). Caller number
``j`` maps to a unique exchange/line pair through an affine permutation, so two callers never
share a number inside an area code.
"""

from __future__ import annotations

import numpy as np

_SPACE = 800 * 10_000  # exchanges 200..999 x lines 0000..9999
_MULT = 2_718_283  # coprime with _SPACE (odd, not a multiple of 5)


def caller_numbers(npa: np.ndarray, caller: np.ndarray, salt: int) -> np.ndarray:
    """National 10-digit numbers for global caller indexes (int64)."""
    x = (caller.astype(np.int64) * _MULT + salt) % _SPACE
    exchange = 200 + x // 10_000
    # 555 is the fictional exchange used by the businesses themselves: move callers off it.
    exchange = np.where(exchange == 555, 556, exchange)
    return npa.astype(np.int64) * 10_000_000 + exchange * 10_000 + x % 10_000


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
