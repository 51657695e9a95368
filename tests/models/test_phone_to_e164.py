"""The phone_to_e164 macro against the phonenumbers library, on thousands of generated variants.

The macro is compiled once by dbt (`dbt compile --inline`), run over every variant in one query,
and each row is compared with the oracle below: phonenumbers with the warehouse's own refusals.

Oracle rule: phonenumbers.parse(text, "US"), then format_number(..., E164) when
is_possible_number_with_reason(...) is IS_POSSIBLE, else null. Three deliberate refusals on top,
where phonenumbers accepts something a warehouse must not (the macro header says the same):
- IS_POSSIBLE_LOCAL_ONLY (7 digits, no area code) is null: without the area code there is no
  E.164 number, and phonenumbers' "+15550102" is not one;
- a North American number whose area code starts with 0 or 1 is null (no such area codes; a
  leading 1 is a trunk prefix typo), where phonenumbers only counts the 10 digits;
- vanity numbers (1-800-FLOWERS) are null: letters in a phone field are a name or a note far more
  often than a keypad spelling.
DELIBERATE lists what the macro does on purpose where even that oracle disagrees.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from dataclasses import dataclass

import phonenumbers
import psycopg
import pytest
from phonenumbers import PhoneNumberFormat, ValidationResult

from callshrink.dbt import stage_reference, tool
from callshrink.settings import PROJECT_DIR

SEED = 164
INLINE = "select id, {{ phone_to_e164('raw_phone') }} as e164 from phone_variants order by id"


@dataclass(frozen=True)
class Variant:
    text: str
    intended: str | None  # the E.164 number the generator wrote down, None for junk


def oracle(text: str) -> str | None:
    """The E.164 number the warehouse should read from `text` (see the module docstring)."""
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != ValidationResult.IS_POSSIBLE:
        return None
    if phonenumbers.is_alpha_number(text.strip()):  # it says yes to "... ext. 12 " otherwise
        return None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if number.country_code == 1 and not re.fullmatch(r"\+1[2-9]\d{9}", e164):
        return None
    return e164


# --- generated variants ----------------------------------------------------------------------

NANP_FORMS = (
    "+1 ({a}) {b}-{c}",
    "{a}.{b}.{c}",
    "{a}{b}{c}",
    "1{a}{b}{c}",
    "1-{a}-{b}-{c}",
    "+1 {a} {b} {c}",
    "({a}) {b}-{c}",
    "{a}-{b}-{c}",
    "+1{a}{b}{c}",
    "1 ({a}) {b}-{c}",
    "+1-{a}-{b}-{c}",
    "+1.{a}.{b}.{c}",
    "({a}){b}-{c}",
)
EXTENSIONS = (
    " ext. {n}",
    " ext.{n}",
    " ext {n}",
    " EXT {n}",
    " x{n}",
    " X{n}",
    "x{n}",
    "#{n}",
    " #{n}",
    ";ext={n}",
    " extension {n}",
    " Extension {n}",
)
PADDING = ("", " ", "  ", "\t", " \t ")

# (country code, national number pattern with spaces; each d is a random digit)
INTERNATIONAL = (
    ("44", "20 7946 0ddd"),  # London
    ("44", "7700 900ddd"),  # UK mobile
    ("33", "1 dd dd dd dd"),  # Paris
    ("33", "6 dd dd dd dd"),  # French mobile
    ("49", "30 ddd dddd"),  # Berlin
    ("49", "151 dddd dddd"),  # German mobile
    ("61", "2 dddd dddd"),  # Sydney
    ("61", "4dd ddd ddd"),  # Australian mobile
)
INTERNATIONAL_FORMS = (
    "+{cc} {national}",
    "+{cc}{digits}",
    "+{cc}-{dashed}",
    "+{cc} (0){national}",  # the trunk 0 Europeans and Australians write in brackets
    "+{cc} (0) {national}",
    "011 {cc} {national}",
    "011{cc}{digits}",
    "011-{cc}-{dashed}",
)

JUNK = (
    "",
    " ",
    "anonymous",
    "Anonymous",
    "ANONYMOUS",
    "Restricted",
    "restricted",
    "Private",
    "unknown",
    "Unavailable",
    "n/a",
    "none",
    "null",
    "12345",
    "0",
    "+",
    "++1",
    "abc",
    "call me",
    "xxx-xxx-xxxx",
    "(000) 000-0000",
    "0000000000",
    "1111111111",
    "1-800-FLOWERS",
    "555-CALL-NOW",
    "ext. 1234567890",
)


def _nanp_national(rng: random.Random) -> tuple[str, str, str]:
    """Area code (2-9, not N9X, not N11) and exchange (2-9) as NANP assigns them."""
    while True:
        area = f"{rng.randint(2, 9)}{rng.randint(0, 8)}{rng.randint(0, 9)}"
        if area[1:] != "11":
            break
    exchange = f"{rng.randint(2, 9)}{rng.randrange(100):02d}"
    return area, exchange, f"{rng.randrange(10_000):04d}"


def _nanp(rng: random.Random) -> Variant:
    a, b, c = _nanp_national(rng)
    text = rng.choice(NANP_FORMS).format(a=a, b=b, c=c)
    if rng.random() < 0.4:
        text += rng.choice(EXTENSIONS).format(n=rng.randint(1, 99999))
    return Variant(rng.choice(PADDING) + text + rng.choice(PADDING), f"+1{a}{b}{c}")


def _international(rng: random.Random) -> Variant:
    cc, pattern = rng.choice(INTERNATIONAL)
    national = "".join(str(rng.randint(0, 9)) if ch == "d" else ch for ch in pattern)
    digits = national.replace(" ", "")
    text = rng.choice(INTERNATIONAL_FORMS).format(
        cc=cc, national=national, digits=digits, dashed=national.replace(" ", "-")
    )
    if rng.random() < 0.3:
        text += rng.choice(EXTENSIONS).format(n=rng.randint(1, 9999))
    return Variant(rng.choice(PADDING) + text + rng.choice(PADDING), f"+{cc}{digits}")


def _junk(rng: random.Random) -> Variant:
    a, b, c = _nanp_national(rng)
    kind = rng.randrange(5)
    if kind == 0:  # too short for any number
        text = str(rng.randrange(10 ** rng.randint(1, 6)))
    elif kind == 1:  # a local number without its area code
        text = rng.choice(("{b}-{c}", "{b}{c}", "{b}.{c}")).format(b=b, c=c)
    elif kind == 2:  # an area code that cannot exist (0 or 1 first)
        text = rng.choice(("({z}{r}) {b}-{c}", "+1 {z}{r} {b} {c}", "1{z}{r}{b}{c}")).format(
            z=rng.choice("01"), r=a[1:], b=b, c=c
        )
    elif kind == 3:  # +1 with a digit too few or too many
        text = rng.choice(("+1 {a} {b} {c1}", "+1 {a} {b} {c}9")).format(a=a, b=b, c=c, c1=c[:3])
    else:
        text = rng.choice(JUNK)
    return Variant(rng.choice(PADDING) + text + rng.choice(PADDING), None)


def generate_variants(seed: int = SEED) -> list[Variant]:
    rng = random.Random(seed)
    variants = [Variant(text, None) for text in JUNK]
    variants += [_nanp(rng) for _ in range(3000)]
    variants += [_international(rng) for _ in range(1200)]
    variants += [_junk(rng) for _ in range(800)]
    return variants


# Where the macro parts from the oracle on purpose: text -> what the macro returns.
DELIBERATE: dict[str, str | None] = {
    # Outside North America the macro checks 8 to 15 digits, not each country's lengths (that
    # would take phonenumbers' metadata into SQL); phonenumbers calls these too short/long.
    "+44 20 7946": "+44207946",
    "+33 1 23 45 67 89 01": "+3312345678901",
    # An extension marker first: phonenumbers skips the x and reads the rest as the number; the
    # macro drops everything from the marker on, so an extension alone is not a number.
    "x 2125550123": None,
}


# --- the macro, compiled and run -------------------------------------------------------------


@pytest.fixture(scope="module")
def compiled_sql(warehouse_url: str) -> str:
    """The inline query with the macro expanded, compiled once by dbt."""
    stage_reference()
    result = subprocess.run(
        [tool("dbt"), "compile", "--quiet", "--output", "json", "--inline", INLINE],
        cwd=PROJECT_DIR,
        env={**os.environ, "DBT_PROFILES_DIR": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    compiled = json.loads(result.stdout)["compiled"]
    assert "phone_to_e164" not in compiled and "case" in compiled, compiled
    return compiled


def run_macro(conn: psycopg.Connection, compiled: str, texts: list[str]) -> list[str | None]:
    """The macro over every text in one query (texts loaded with COPY, so bound, not quoted)."""
    conn.execute("drop table if exists phone_variants")
    conn.execute("create temp table phone_variants (id integer primary key, raw_phone text)")
    with conn.cursor().copy("copy phone_variants (id, raw_phone) from stdin") as copy:
        for row in enumerate(texts):
            copy.write_row(row)
    rows = conn.execute(compiled).fetchall()
    assert [row[0] for row in rows] == list(range(len(texts)))
    return [row[1] for row in rows]


@pytest.fixture(scope="module")
def variants() -> list[Variant]:
    return generate_variants()


def _report(failures: list[tuple[str, str | None, str | None]], total: int, what: str) -> str:
    lines = [f"{len(failures)} of {total} variants: {what}; the first 20 (text, got, expected):"]
    lines += [f"  {text!r}: {got!r} != {expected!r}" for text, got, expected in failures[:20]]
    return "\n".join(lines)


def test_variants_are_thousands_and_deterministic(variants: list[Variant]) -> None:
    assert len(variants) >= 5000
    assert len({v.text for v in variants}) >= 4000  # mostly distinct
    assert sum(v.intended is not None for v in variants) >= 4000
    assert variants == generate_variants()


def test_oracle_reads_what_the_generator_wrote(variants: list[Variant]) -> None:
    """Checks the generator and the oracle rule: the oracle must find every intended number."""
    failures = [(v.text, oracle(v.text), v.intended) for v in variants]
    failures = [f for f in failures if f[1] != f[2]]
    assert not failures, _report(failures, len(variants), "oracle != generator")


def test_macro_matches_oracle(
    conn: psycopg.Connection, compiled_sql: str, variants: list[Variant]
) -> None:
    texts = [v.text for v in variants]
    got = run_macro(conn, compiled_sql, texts)
    failures = [(t, g, oracle(t)) for t, g in zip(texts, got, strict=True)]
    failures = [f for f in failures if f[1] != f[2]]
    assert not failures, _report(failures, len(texts), "macro != oracle")
    assert sum(g is not None for g in got) >= 4000  # a macro that returns null fails above


def test_deliberate_disagreements(conn: psycopg.Connection, compiled_sql: str) -> None:
    texts = list(DELIBERATE)
    got = run_macro(conn, compiled_sql, texts)
    assert got == list(DELIBERATE.values())
    assert all(oracle(text) != DELIBERATE[text] for text in texts)  # still a disagreement
