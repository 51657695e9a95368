"""Process-drift alerts after every build: the signals marts.process_signals holds for the first
time are recorded, posted to the webhook once (callshrink/alerts.py), and raised as a warning
of the asset check `no_new_process_signals` on the mart."""

import dagster as dg

from callshrink import alerts, db

SIGNALS = dg.AssetKey(["marts", "process_signals"])
ALERTS = dg.AssetKey(["alerts", "process_alerts"])
CHECK_NAME = "no_new_process_signals"


@dg.asset(
    key=ALERTS,
    deps=[SIGNALS],
    group_name="alerts",
    owners=["team:analytics-engineering"],
    description="Each new process signal recorded once in the alerts table and posted once to "
    f"the webhook {alerts.WEBHOOK_VAR} names (Slack-compatible JSON).",
)
def process_alerts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    db.activate()
    with db.connect(autocommit=True) as conn:
        outcome = alerts.run(conn, run_id=context.run_id)
    if outcome.error:
        context.log.warning(outcome.error)
    return dg.MaterializeResult(
        metadata={"new_signals": len(outcome.new), "posted": outcome.posted}
    )


@dg.asset_check(
    asset=SIGNALS,
    name=CHECK_NAME,
    additional_deps=[ALERTS],
    description="Warns with the process signals this run saw for the first time.",
)
def no_new_process_signals(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    db.activate()
    with db.connect(autocommit=True) as conn:
        new = alerts.first_seen_in(conn, context.run_id)
    return dg.AssetCheckResult(
        passed=not new,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(new)} new process signals" if new else "no new process signal",
        metadata={"signals": "\n".join(map(alerts.line, new[:50]))},
    )
