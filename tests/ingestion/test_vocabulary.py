"""Lists written in two languages agree: the staging model's known queue events."""

from __future__ import annotations

import re

from callshrink.ingest.tables import QUEUE_LOG_EVENTS
from callshrink.settings import PROJECT_DIR


def test_staging_knows_the_same_queue_events_as_the_contract():
    sql = (PROJECT_DIR / "models/staging/asterisk/stg_asterisk__queue_log.sql").read_text()
    listed = re.search(r"event in \(([^)]*)\)\s+as is_known_event", sql)
    assert listed, "stg_asterisk__queue_log no longer has its `is_known_event` list"
    assert set(re.findall(r"'([A-Z]+)'", listed.group(1))) == set(QUEUE_LOG_EVENTS)
