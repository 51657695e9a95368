"""How many of a run's leftovers to keep: settings read from the environment.

Every `callshrink run` leaves files behind (dbt's artifacts, Great Expectations' results and
their Data Docs pages); a daily schedule would fill the disk with them, and some (the Data Docs
index) get slower to rebuild as they accumulate. Each kind keeps only its newest few.
"""

import os

import dagster as dg


def kept_count(variable: str, default: int, what: str) -> int:
    """The number the environment variable asks to keep, or ``default`` when it is unset; a
    value that is not a whole number of at least 1 fails the run, naming the variable."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    try:
        keep = int(text)
    except ValueError:
        raise dg.Failure(
            description=f"{variable}={text!r} is not a whole number of {what} to keep"
        ) from None
    if keep < 1:
        raise dg.Failure(description=f"{variable}={keep}: keep at least the last run's {what}")
    return keep
