"""Process-drift alerts (callshrink/alerts.py): a signal is recorded once and posted once to the
webhook, a local HTTP server on 127.0.0.1 standing in for Slack; a second run posts nothing new;
a post the webhook refuses is tried again on the next run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest

from callshrink import alerts
from tests.conftest import drop_database, recreate_database

DATABASE = "callshrink_test_alerts"


class Webhook:
    """An HTTP server on 127.0.0.1 that keeps every JSON body posted to it; it answers 500
    while `failing` is set."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.failing = False
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.failing:
                    self.send_response(500)
                else:
                    hook.posts.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def signals_db(server_url: str) -> Iterator[psycopg.Connection]:
    """A database of its own with a marts.process_signals of hand-made rows."""
    url = recreate_database(server_url, DATABASE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create schema if not exists marts")  # ensure_app_role makes it
        conn.execute(
            "create table marts.process_signals (location_id text, kpi text, signal_date date,"
            " rule_name text, direction text, point_value numeric, centre_line numeric,"
            " lcl_3 numeric, ucl_3 numeric, n integer)"
        )
        yield conn
    drop_database(server_url, DATABASE)


def _add_signal(conn: psycopg.Connection, location: str, day: str, value: str) -> None:
    conn.execute(
        "insert into marts.process_signals values (%s, 'answer_rate', %s,"
        " 'rule_1_beyond_3_sigma', 'below', %s, 0.85, 0.78, 0.92, 64)",
        (location, day, value),
    )


def test_a_signal_posts_once_with_location_kpi_rule_and_value(
    signals_db: psycopg.Connection, webhook: Webhook
) -> None:
    _add_signal(signals_db, "loc_02", "2026-03-10", "0.61")
    first = alerts.run(signals_db, webhook.url, run_id="run-1")
    assert (len(first.new), first.posted, first.error) == (1, 1, None)
    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert "loc_02 answer_rate on 2026-03-10: rule_1_beyond_3_sigma (value 0.61" in post["text"]
    [signal] = post["signals"]
    assert (signal["location_id"], signal["kpi"], signal["rule"], signal["value"]) == (
        "loc_02",
        "answer_rate",
        "rule_1_beyond_3_sigma",
        0.61,
    )

    second = alerts.run(signals_db, webhook.url, run_id="run-2")
    assert (second.new, second.posted) == ([], 0)
    assert len(webhook.posts) == 1  # nothing new: nothing posted

    _add_signal(signals_db, "loc_05", "2026-03-11", "0.55")
    third = alerts.run(signals_db, webhook.url, run_id="run-3")
    assert third.posted == 1
    assert [s["location_id"] for s in webhook.posts[-1]["signals"]] == ["loc_05"]
    assert [s["location_id"] for s in third.new] == ["loc_05"]
    first_runs = signals_db.execute(
        "select location_id, first_seen_run from alerts.process_alerts order by location_id"
    ).fetchall()
    assert first_runs == [("loc_02", "run-1"), ("loc_05", "run-3")]


def test_a_refused_post_is_tried_again_and_then_sent_once(
    signals_db: psycopg.Connection, webhook: Webhook
) -> None:
    _add_signal(signals_db, "loc_02", "2026-03-10", "0.61")
    webhook.failing = True
    refused = alerts.run(signals_db, webhook.url, run_id="run-1")
    assert refused.posted == 0 and "500" in refused.error and alerts.WEBHOOK_VAR in refused.error
    webhook.failing = False
    retried = alerts.run(signals_db, webhook.url, run_id="run-2")
    assert (retried.new, retried.posted, retried.error) == ([], 1, None)
    assert len(webhook.posts) == 1
    assert alerts.run(signals_db, webhook.url, run_id="run-3").posted == 0


def test_without_a_webhook_signals_are_recorded_and_posted_once_one_is_set(
    signals_db: psycopg.Connection, webhook: Webhook
) -> None:
    _add_signal(signals_db, "loc_02", "2026-03-10", "0.61")
    quiet = alerts.run(signals_db, "", run_id="run-1")
    assert (len(quiet.new), quiet.posted) == (1, 0)
    assert alerts.run(signals_db, webhook.url, run_id="run-2").posted == 1
    assert len(webhook.posts) == 1
