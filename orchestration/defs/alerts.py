"""Process-drift alerts after every build: the signals marts.process_signals holds for the first
time are recorded, posted to the webhook once (callshrink/alerts.py), and raised as a warning
of the check `no_new_process_signals`. The check is a spec of the alerts asset itself, so it
runs in the asset's step: no check runs in a step of its own (tests/orchestration)."""

from collections.abc import Iterator

import dagster as dg

from callshrink import alerts, db

SIGNALS = dg.AssetKey(["marts", "process_signals"])
ALERTS = dg.AssetKey(["alerts", "process_alerts"])
CHECK_NAME = "no_new_process_signals"


@dg.asset(
    key=ALERTS,
    deps=[SIGNALS],
    group_name="marts",
    owners=["team:analytics-engineering"],
    check_specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=ALERTS,
            description="Warns with the process signals this run saw for the first time.",
        )
    ],
    description="Each new process signal of marts.process_signals recorded once in the table "
    f"alerts.process_alerts and posted once to the webhook {alerts.WEBHOOK_VAR} names "
    "(Slack-compatible JSON).",
)
def process_alerts(context: dg.AssetExecutionContext) -> Iterator:
    db.activate()
    with db.connect(autocommit=True) as conn:
        outcome = alerts.run(conn, run_id=context.run_id)
    if outcome.error:
        context.log.warning(outcome.error)
    yield dg.MaterializeResult(metadata={"new_signals": len(outcome.new), "posted": outcome.posted})
    yield dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=not outcome.new,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{len(outcome.new)} new process signals" if outcome.new else "no new process signal"
        ),
        metadata={"signals": "\n".join(map(alerts.line, outcome.new[:50]))},
    )
