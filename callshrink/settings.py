"""Where things are and how to reach the warehouse.

Every setting comes from the environment so that the CLI, Dagster, dbt, the tests and the app
agree without passing configuration around:

- ``CALLSHRINK_DATABASE_URL``: the warehouse. Unset means the private server (see ``db.py``).
  The pipeline, dbt and the CLI connect with it: it owns the warehouse's schemas.
- ``CALLSHRINK_APP_DATABASE_URL``: how the app connects, as a read-only role that may read the
  marts only. Unset means the private server's app role (``db.app_database_url``); on a server
  of your own it is required (``scripts/app_role.sql`` creates the role).
- ``CALLSHRINK_APP_ROLE``: that role's name (default ``callshrink_app``); dbt grants it
  ``select`` on every mart it builds (``+grants`` in dbt_project.yml).
- ``CALLSHRINK_STAFF_DATABASE_URL``: how the app's Call back page connects, as a role that may
  read callers' numbers (a member of the restricted role, dbt var ``restricted_role``). Unset
  means none on a server of your own (the page then shows no numbers); ``callshrink app`` on
  the private server passes its staff role (``db.staff_database_url``).
- ``CALLSHRINK_HOME``: where the private server's data and other local state live
  (default: ``.callshrink/`` in the checkout, which git ignores).
- ``CALLSHRINK_LANDING_DIR``: the landing folder of raw exports (default ``<home>/landing``).
- ``CALLSHRINK_REFERENCE_DIR``: the reference seeds dbt loads (default: ``seeds/``).
- ``CALLSHRINK_PROJECT_DIR``: the dbt project dbt, Dagster and MetricFlow run in (default: this
  checkout). The test suite points each of its parallel processes at a folder of links to the
  checkout with a ``target/`` of its own, so that their dbt artifacts stay apart.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict, make_conninfo

PROJECT_DIR = Path(
    os.environ.get("CALLSHRINK_PROJECT_DIR") or Path(__file__).resolve().parent.parent
)
DATABASE_URL_VAR = "CALLSHRINK_DATABASE_URL"
APP_DATABASE_URL_VAR = "CALLSHRINK_APP_DATABASE_URL"
APP_ROLE_VAR = "CALLSHRINK_APP_ROLE"
DEFAULT_APP_ROLE = "callshrink_app"
STAFF_DATABASE_URL_VAR = "CALLSHRINK_STAFF_DATABASE_URL"
# The private server's login role for call-back staff, a member of the restricted role.
STAFF_ROLE = "callshrink_staff"
WAREHOUSE_DB = "callshrink"
# dbt writes grantees into `grant` statements unquoted, and pg_hba.conf names the role: a plain
# lower-case identifier needs no quoting in either.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def whole_number_at_least_one(text: str) -> int | None:
    """``text`` as a count of things done at once (digits only, 1 or more), else None: the one
    rule of ``callshrink run --load-threads`` and ``CALLSHRINK_LOAD_THREADS``."""
    text = text.strip()
    return int(text) if text.isdigit() and int(text) >= 1 else None


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


def configured_app_database_url() -> str | None:
    """The app's URL as the user set it, or None (the private server's app role then)."""
    url = os.environ.get(APP_DATABASE_URL_VAR, "").strip()
    return url or None


def configured_staff_database_url() -> str | None:
    """The staff connection's URL as the user set it, or None."""
    url = os.environ.get(STAFF_DATABASE_URL_VAR, "").strip()
    return url or None


def restricted_role() -> str:
    """The role that reads callers' numbers in clear: dbt var restricted_role."""
    import yaml

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    role = str(project["vars"]["restricted_role"])
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(f"dbt var restricted_role={role!r} is not a lower-case identifier")
    return role


def app_role() -> str:
    """The name of the app's read-only role (CALLSHRINK_APP_ROLE, default callshrink_app)."""
    role = os.environ.get(APP_ROLE_VAR, "").strip() or DEFAULT_APP_ROLE
    if not _ROLE_NAME.fullmatch(role):
        raise ValueError(
            f"{APP_ROLE_VAR}={role!r}: the app's role must be a lower-case identifier "
            "(letters, digits, underscores; at most 63)"
        )
    return role


def app_password_file() -> Path:
    """Where the private server's app role keeps its generated password (mode 0600)."""
    return home_dir() / "app_role.password"


def staff_password_file() -> Path:
    """Where the private server's staff role keeps its generated password (mode 0600)."""
    return home_dir() / "staff_role.password"


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


def _is_url(conninfo: str) -> bool:
    return conninfo.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL (or key=value connection string) with its password hidden, for printing."""
    if not _is_url(url):
        if conninfo_to_dict(url).get("password") is None:
            return url
        return make_conninfo(url, password="***")
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    query = re.sub(r"(^|&)password=[^&]*", r"\1password=***", query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database name."""
    if not _is_url(url):
        return make_conninfo(url, dbname=dbname)
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def with_login(url: str, user: str, password: str) -> str:
    """The same server and database, reached as another role with its password."""
    if not _is_url(url):
        return make_conninfo(url, user=user, password=password)
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    query = re.sub(r"(^|&)(user|password)=[^&]*", "", parts.query).lstrip("&")
    return urlunsplit(parts._replace(netloc=netloc, query=query))
