"""Where things are and how to reach the warehouse.

Every setting comes from the environment so that the CLI, Dagster, dbt, the tests and the app
agree without passing configuration around:

- ``CALLSHRINK_DATABASE_URL``: the warehouse. Unset means the private server (see ``db.py``).
- ``CALLSHRINK_HOME``: where the private server's data and other local state live
  (default: ``.callshrink/`` in the checkout, which git ignores).
- ``CALLSHRINK_LANDING_DIR``: the landing folder of raw exports (default ``<home>/landing``).
- ``CALLSHRINK_REFERENCE_DIR``: the reference seeds dbt loads (default: ``seeds/``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATABASE_URL_VAR = "CALLSHRINK_DATABASE_URL"
WAREHOUSE_DB = "callshrink"


def home_dir() -> Path:
    return Path(os.environ.get("CALLSHRINK_HOME", PROJECT_DIR / ".callshrink")).resolve()


def landing_dir() -> Path:
    return Path(os.environ.get("CALLSHRINK_LANDING_DIR", home_dir() / "landing")).resolve()


def reference_dir() -> Path:
    return Path(os.environ.get("CALLSHRINK_REFERENCE_DIR", PROJECT_DIR / "seeds")).resolve()


def configured_database_url() -> str | None:
    """The user's warehouse URL, or None when the private server should be used."""
    url = os.environ.get(DATABASE_URL_VAR, "").strip()
    return url or None


@dataclass(frozen=True)
class Connection:
    """A warehouse connection split into the parts dbt's profile needs."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> Connection:
        parts = conninfo_to_dict(url)
        return cls(
            host=str(parts.get("host") or "localhost"),
            port=int(parts.get("port") or 5432),
            user=str(parts.get("user") or os.environ.get("USER", "postgres")),
            password=str(parts.get("password") or ""),
            dbname=str(parts.get("dbname") or WAREHOUSE_DB),
        )

    def env(self) -> dict[str, str]:
        """Variables read by profiles.yml (dbt, MetricFlow, sqlfluff)."""
        return {
            "CALLSHRINK_PGHOST": self.host,
            "CALLSHRINK_PGPORT": str(self.port),
            "CALLSHRINK_PGUSER": self.user,
            "CALLSHRINK_PGPASSWORD": self.password,
            "CALLSHRINK_PGDATABASE": self.dbname,
        }


def dbt_schema(layer: str) -> str:
    """The schema dbt builds a layer into (mirrors macros/generate_schema_name.sql)."""
    target = os.environ.get("CALLSHRINK_DBT_SCHEMA", "analytics")
    return layer if target == "analytics" else f"{target}_{layer}"


def redacted(url: str) -> str:
    """The URL with its password hidden, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database name (URLs of the postgresql:// form)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))
