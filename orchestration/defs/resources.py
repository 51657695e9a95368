"""Resources: the warehouse connection and the landing folder, both from the environment."""

from pathlib import Path

import dagster as dg
import psycopg

from callshrink import db, settings


class WarehouseResource(dg.ConfigurableResource):
    """The Postgres warehouse: CALLSHRINK_DATABASE_URL, else the private server (started on use).

    Resolving it also exports the connection variables profiles.yml reads, so a dbt command
    started by the same process reaches the same database.
    """

    def url(self) -> str:
        return db.activate()

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url())


class LandingResource(dg.ConfigurableResource):
    """The landing folder: CALLSHRINK_LANDING_DIR, else ``.callshrink/landing``."""

    def path(self) -> Path:
        landing = settings.landing_dir()
        if not landing.is_dir():
            raise dg.Failure(
                f"landing folder {landing} does not exist: set CALLSHRINK_LANDING_DIR or pass "
                "`callshrink run --landing DIR` (`callshrink generate` writes a demo one)"
            )
        return landing
