"""Demo data: vendor exports for a landing folder, reference CSVs and an answer key.

``generate(out, ...)`` (also ``callshrink generate``, see :mod:`.cli`) writes three folders
under ``out`` (each replaced if it exists). Same arguments and seed give byte-identical files.

``landing/`` the layout and formats of SOURCES.md; one file per UTC day of the period (named by
date; the last one holds the late-evening spill-over of the last local day):
    ``tracking/callrail/calls_<date>[_pN].json|.jsonl|.csv`` rotating by day between API pages
    (``{"page", "per_page": 250, "total_pages", "total_records", "calls"}``), JSON lines and CSV
    (header = field names; booleans ``true``/``false``, null empty, ``tags`` comma separated).
    ``pbx/<pbx_id>/cdr/Master-<date>.csv`` Asterisk cdr-csv: 21 double-quoted columns, no
    header, rows in end-time order, times in the PBX's zone.
    ``pbx/<pbx_id>/queue_log/queue_log-<date>`` Asterisk queue_log in time order.
    ``pos/square/{payments,refunds,customers}/<kind>_<date>.jsonl``,
    ``crm/hubspot/{contacts,deals}/<kind>_<date>.jsonl``.

PBX conventions: ``pbx_east`` (America/New_York) serves loc_01, 02, 06, ...; ``pbx_west``
(America/Los_Angeles) serves loc_04, 05 (America/Phoenix, no DST), ...; loc_03 has no PBX
(CallRail forwards to a mobile, so it is seen only in CallRail, every call tracked). Queue
``loc_NN_front`` per location (lastdata ``loc_NN_front,t,,,<timeout>``, timeout 60-120 s),
escalation queue ``tier2`` per PBX (agents 9001-9003 east, 9101-9103 west, AGENTLOGIN /
AGENTLOGOFF), agent extensions ``<N>01..`` (e.g. 101-105 at loc_01, ADDMEMBER / PAUSE /
UNPAUSE / REMOVEMEMBER around opening hours), voicemail box ``<N>00@default``. The trunk leg
(``PJSIP/trunk-<hex>``, lastapp Queue, ANSWERED, answer = start) is the call's linkedid and
queue_log callid; the dialled number is written as 11 digits by pbx_east (``16175550100``) and
10 digits by pbx_west (``4155550100``); src is the caller as the carrier presents it
(``+1NXX...``, ``1NXX...`` or ``NXX...``; junk for some spam). Legs: one per agent ring
(RINGNOANSWER 15000 ms / NO ANSWER), the answering agent (CONNECT, COMPLETECALLER or
COMPLETEAGENT), a ``VoiceMail`` leg after EXITWITHTIMEOUT or EXITWITHKEY (key 1) when the
caller leaves a message (EXITWITHTIMEOUT without it = missed), BLINDTRANSFER to ``tier2``
(then ENTERQUEUE / CONNECT / COMPLETECALLER in tier2 with the same callid and a Queue leg
``tier2,t,,,300``) or ATTENDEDTRANSFER to another agent (a ``Dial`` leg). After hours the trunk
leg goes straight to ``VoiceMail`` (no queue_log). Callbacks: dcontext ``from-internal``, src
the agent extension, dst the customer (10 or 11 digits), lastapp Dial, their own linkedid.
Some 30 % of PBX callers dial the business number directly (no CallRail record); a CallRail
record of a PBX location says ``answered``/``call_type: answered`` and starts 0-5 s before the
trunk leg. At loc_03 CallRail's answered/voicemail/call_type are the outcome and its callbacks
are CallRail ``outbound`` calls.

``reference/`` locations.csv, location_crosswalk.csv, business_hours.csv, pbx_systems.csv,
escalation_queues.csv (the dbt seeds; location i depends only on i, so N is a prefix of N+1).

``answer_key/`` (never read by the pipeline):
    ``outcomes_by_location.csv`` location_id, outcome, calls: inbound calls by true outcome
    (answered, voicemail, abandoned, missed, short_abandon, after_hours, spam; every pair).
    ``calls.csv`` one row per call (inbound and outbound callbacks): call_key, location_id,
    direction, origin (fresh/retry/follow_up/callback), caller_e164 (empty for junk caller ids),
    start_utc (the PBX trunk start; CallRail's start_time is 0-5 s earlier), callrail_id,
    pbx_linkedid, source (CallRail tracker source, empty if untracked), outcome (outbound:
    answered/no_answer), is_missed_opportunity, recovered_by_call_key, is_repeat_24h,
    is_repeat_7d, transfer (agent/escalation), wait_seconds, would_buy, ticket_usd,
    is_new_caller (first inbound call of the number at the location in the data set),
    attributed_revenue_usd (net revenue attributed to the call under the rule below).
    ``revenue_by_location_day.csv`` location_id, date (location-local), payments_usd
    (COMPLETED payments, amount_money without tip), refunds_usd (COMPLETED refunds, by the
    refund's own date), deals_usd (closedwon deals at closedate). HubSpot deals carry no
    location: a deal is placed at the location of the call it is attributed to, else on
    location_id ``unknown`` with its UTC date.
    ``attributed_revenue_by_location_day.csv`` the same columns, attributed amounts only.
    ``attributions.csv`` every revenue record: record_type (payment/refund/deal), record_id,
    file (relative to landing), line, location_id, date, amount_usd, call_key, callrail_id,
    pbx_linkedid, call_location_id, rule (same_number_same_location_30d for payments,
    same_number_any_location_30d for deals, refund_follows_payment, unattributed).
    ``lost_revenue.csv`` location_id, category (missed_opportunity/after_hours/short_abandon),
    lost_intents, lost_usd, lost_attributable_usd: would-buy callers whose first call was not
    answered and who never bought because no answered call (callback or retry) followed within
    24 h, counted once per buying intent (a chain of retries is one intent), by the location
    and outcome of the intent's first call, and valued at what their purchase would have
    brought (commerce.expected_purchase_value: a Square payment of the ticket or, 15 % of
    the time, a won deal of 4 tickets; expected over payment status and refunds, rounded to
    the cent per intent). lost_usd is all of it; lost_attributable_usd the part whose records
    carry the caller's number (a customer record with the person's own phone, a contact with
    a phone), which attribution would have credited to the call: the unit of missed-call
    shrink.
    ``summary.json`` per location and ``total``: inbound calls (all seven outcomes) and
    outbound callbacks, outcome counts,
    answered, answer_rate, missed_opportunities, recovered_missed_opportunities,
    median_minutes_to_recovery, answered_inbound, repeat_contacts_24h/7d, transfers,
    escalations, queue (over PBX queue calls, from CONNECT holdtime / ABANDON waittime:
    average_speed_of_answer_seconds, service_level_20s = answered within 20 s / (answered +
    abandoned after 20 s), abandonment_rate, transfer_rate, escalation_rate), revenue,
    attributed_revenue, true_lost_revenue and true_lost_attributable_revenue (decimal
    strings).
    ``defects.json`` (only with ``defects=True``) ``{"note", "defects": [{"file" (relative to
    landing), "line" (1-based, null for a whole file), "kind", "expected"}]}``; see
    :mod:`.defects`.

Truth rules used by the answer key:
- outcome precedence: spam, then after_hours (arrival outside business_hours in the location's
  zone), then short_abandon (hung up before 10 s), answered, voicemail, abandoned, missed.
  At the mobile-only location (loc_03) CallRail's own call_type decides, as CallRail does:
  a hang-up 15 s or later is ``missed``. Generated waits never fall in 9-11 s, so small start
  time differences between systems cannot flip a short abandon.
- spam rule: a call is spam when its CallRail record has the tag ``spam``, or when it has no
  CallRail record and its caller id has fewer than 10 digits (``anonymous``, ``Restricted``,
  empty, short numbers). No other call has such a caller id or tag.
- recovered: a voicemail/abandoned/missed call followed within 24 h (start to start) by an
  answered call with the same number, inbound or an outbound callback, at any location.
- repeat contact (W): an answered inbound call followed within W by another non-spam inbound
  call from the same number, at any location.
- attribution: a COMPLETED payment goes to the latest answered inbound call from the same
  E.164 number (through customer_id -> phone_number) at the same location strictly before it,
  within 30 days; a closedwon deal likewise through its associated contact's phone (or
  mobilephone), at any location; a COMPLETED refund follows its payment.

Behaviour (see :mod:`.sim`): arrivals by local hour and weekday (Sunday closed), staffing and
load per location and hour (unanswered shares about 13-35 %), queue patience, short abandons,
keypress to voicemail, ring-no-answer, transfers and escalations, spam, callbacks and retries
(most within 24 h), follow-up calls after answered ones, returning callers, marketing sources
per tracking number. Answered would-buy callers pay in Square (or win a HubSpot deal) hours to
days later at that location; unrecovered missed callers never buy; walk-ins pay without calls.
Money is integer cents throughout.

Scale: the generator works one UTC day at a time and the answer key is computed as the
generator goes (:class:`.answer_key.AnswerKey`): it keeps 8 days of calls for the recovery and
repeat look-ahead and 36 days of answered inbound calls for attribution (30 days plus refunds),
so peak memory stops growing after about five weeks (the year preset runs in about the memory
of five weeks). calls.csv rows wait in ``answer_key/.calls_parts/`` until their attributed
revenue is final; that folder is removed at the end.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from callshrink.generate.core import DEFAULT_START, generate_tree
from callshrink.generate.presets import PRESETS
from callshrink.generate.sim import Params

__all__ = ["DEFAULT_START", "PRESETS", "generate"]


def generate(
    out: Path,
    *,
    locations: int = 6,
    days: int = 28,
    seed: int = 7,
    start: dt.date | None = None,
    defects: bool = False,
    progress: bool = False,
    calls_per_location_day: float | None = None,
) -> dict:
    """Write ``out/landing``, ``out/reference`` and ``out/answer_key``; return counts.

    ``calls_per_location_day`` sets the mean daily volume of an average location (default
    that of the ``demo`` preset). Same arguments give byte-identical files.
    """
    params = Params()
    if calls_per_location_day is not None:
        params.calls_per_location_day = float(calls_per_location_day)
    summary = generate_tree(
        Path(out),
        locations_n=locations,
        days=days,
        seed=seed,
        start=start or DEFAULT_START,
        params=params,
        progress=progress,
    )
    if defects:
        from callshrink.generate.defects import inject

        summary["defects"] = inject(Path(out))
    return summary
