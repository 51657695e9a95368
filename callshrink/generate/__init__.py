"""Demo data: vendor exports for a landing folder, reference CSVs and an answer key.

``generate(out, ...)`` (also ``callshrink generate``, see :mod:`.cli`) writes three folders
under ``out`` (each replaced if it exists). Same arguments and seed give byte-identical files.

``landing/`` the layout and formats of docs/sources.md; one file per UTC day of the period (named by
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
(CallRail forwards to a mobile, so it is seen only in CallRail, every call tracked). The two
PBXs are two flavours of Asterisk (:attr:`.reference.Pbx.flavour`, :mod:`.pbx`): pbx_east a
FreePBX, pbx_west a plain hand-written dialplan. Both write CDRs as Asterisk 12+ does:
    A record's ``uniqueid`` is that of its ``channel`` (party A). Every record whose channel is
    the caller's trunk channel (the trunk's own record, each queue-member attempt, voicemail,
    the leg after a transfer) carries the trunk channel's uniqueid, which is the call's
    ``linkedid`` and queue_log ``callid``; those records are told apart by ``sequence``
    (increasing per PBX). A record of another channel (a ``Local/...;2`` half) carries that
    channel's own uniqueid (``<epoch>.<counter>``) and the call's linkedid. Channel names end
    in ``-<8 hex>`` from a per-PBX counter (both halves of a Local pair share it). The PBX
    answers the trunk at once: the trunk's own record (no dstchannel) is ANSWERED with answer =
    start and lasts the whole call. src is the caller as the carrier presents it (``+1NXX...``,
    ``1NXX...`` or ``NXX...``; junk for some spam and for genuine callers who withhold their
    number). Queue timeout 60-120 s, agent extensions ``<N>01..`` (101-105 at loc_01, more
    where the staffing plan puts more on the phones).
    Agents follow the location's staffing plan (:mod:`.staffing`: agents per weekday and local
    hour, from Erlang C, thinned where short-handed, a few hours with nobody): agent k is added
    (ADDMEMBER) at the start of the first hour with more than k agents, removed (REMOVEMEMBER)
    at the end of the last, and in between paused (PAUSE / UNPAUSE, FreePBX) or removed and
    added again (plain), all on the hour. A queue caller finds nobody available, every agent
    busy (Erlang C's chance; never rung, waits an exponential time for one to free up) or a
    free member (rung at once; each member who lets it ring out costs a round). Voicemail box
    ``<N>00``, escalation agents 9001-9003 east, 9101-9103 west (AGENTLOGIN / AGENTLOGOFF).
    queue_log: ENTERQUEUE; RINGNOANSWER (15000 ms) per member rung in vain, RINGCANCELED (the
    ring time so far) for the members ringing when the caller left; CONNECT (holdtime, the
    answering member channel's uniqueid, ringtime);
    COMPLETECALLER or COMPLETEAGENT; ABANDON; EXITWITHTIMEOUT or EXITWITHKEY (key 1), then a
    ``VoiceMail`` record when the caller leaves a message (without one = missed).
    Attended transfer to another agent: the agent's phone places a consult call on a new
    channel to the target's phone, one record (channel ``<tech>/<ext>-<hex>``, dstchannel
    ``<tech>/<ext2>-<hexY>``, src ext, dst ext2, clid ``"<location name> <ext>" <ext>``, the
    flavour's internal context, Dial, ANSWERED, from 8-40 s before the transfer but not before
    the agent answered, answered 2-4 s later, ending at the transfer) that is its own
    uniqueid and linkedid. The agent's member record ends at the transfer; queue_log
    ``ATTENDEDTRANSFER|BRIDGE|<bridge uuid>|holdtime|calltime|origposition``; then one record
    bridges the caller to the target: channel the trunk, dstchannel the same
    ``<tech>/<ext2>-<hexY>``, start = answer = the transfer, to the call's end, lastapp Queue,
    dst and dcontext as the flavour's queue records.
    Escalation (blind transfer): ``BLINDTRANSFER|<escalation queue>|<internal context>|...``,
    then ENTERQUEUE / CONNECT / COMPLETECALLER in the escalation queue with the same callid
    and a member attempt in the flavour's style (lastdata ``<escalation queue>,t,,,300...``).
    After hours the trunk goes straight to ``VoiceMail`` (no queue_log).
    Internal calls: staff phone to phone, nobody's call (Poisson(3) per PBX location and open
    day, within opening hours, 70 % answered after 3-10 s with 20-300 s of talk, else NO
    ANSWER after 15-25 s): one record, channel and dstchannel phones, src and dst extensions
    of one location, the flavour's internal context, Dial, its own linkedid.
    Callbacks: channel the agent's phone, dstchannel the outbound trunk, src the extension,
    dst the customer as the flavour dials out, the internal context, Dial, its own linkedid.
FreePBX (pbx_east): inbound trunk ``PJSIP/telnyx-in-<hex>``, outbound
    ``PJSIP/telnyx-out-<hex>``, phones ``PJSIP/<ext>-<hex>``. Queues are numbered: location
    i's is ``4{i:02d}0`` (4010 at loc_01, 4120 at loc_12), the escalation queue ``4999``;
    members are Local channels, queue_log agent ``Local/<ext>@from-queue/n`` (member and agent
    events too). A 3 s greeting (``Pbx.greeting_seconds``) plays before the queue: queue_log
    ``DID`` (queuename the queue, data the dialled number as 10 digits) and ENTERQUEUE come at
    start + 3, and every queue time (CONNECT / COMPLETE* holdtime, ABANDON / EXIT* waittime)
    counts from then; rings and the answering member start after it. A caller who hangs up
    during the greeting leaves no queue_log and one trunk record (``Playback``,
    ``custom/greeting-locNN``, dcontext ``from-pstn``, dst the DID as 10 digits). The trunk's
    own record of a queue call: lastapp Queue, lastdata ``<queue>,t,,,<timeout>,,,,,``,
    dcontext ``ext-queues``, dst the queue number (not the DID). Each member attempt
    (rrmemory: one phone at a time) writes two records with the same times and disposition:
    trunk -> ``Local/<ext>@from-queue-<hex>;1`` (Queue, ext-queues, dst the queue, the call's
    uniqueid) and ``Local/<ext>@from-queue-<hex>;2`` -> ``PJSIP/<ext>-<hex>`` (Dial
    ``PJSIP/<ext>/sip:<ext>@10.20.0.<n>:5060,,HhTtr``, ``macro-dial-one``, dst ``s``, src the
    caller, its own uniqueid); CONNECT names the ``;1`` channel's uniqueid. Voicemail after the
    queue: VoiceMail ``<box>@default,u``, dcontext ``ext-local``, dst ``vmu<box>``; after
    hours: VoiceMail in ``from-pstn`` with dst the DID (10 digits). Internal context
    ``from-internal``; callbacks dial the customer's 10 digits (``PJSIP/<number>@telnyx-out``).
Plain dialplan (pbx_west): chan_sip, ``SIP/provider-<hex>`` both ways, phones
    ``SIP/<ext>-<hex>``. Every inbound record is in context ``inbound`` with dst the DID as 10
    digits; no DID event and no greeting (the queue clock is the call's). Queues
    ``loc_NN_front`` (lastdata ``loc_NN_front,t,,,<timeout>``) and ``tier2``; members are the
    phones (agent ``SIP/<ext>``), one record per attempt (trunk -> ``SIP/<ext>-<hex>``, Queue,
    the call's uniqueid); CONNECT names the phone channel's uniqueid. Strategy ringall: each
    ring round rings 2 or 3 phones at once (fewer than the location's agents), each a NO
    ANSWER record with its RINGNOANSWER; in the answered round the others' NO ANSWER records
    end at the answer, without RINGNOANSWER. Voicemail: VoiceMail ``<box>@default``, dst the
    DID. Internal context ``from-sip-phones``; callbacks dial ``1`` + 10 digits
    (``SIP/provider/1NXX...``).
Some 30 % of PBX callers dial the business number directly (no CallRail record); a CallRail
record of a PBX location says ``answered``/``call_type: answered`` and starts 0-5 s before the
trunk's record. At loc_03 CallRail's answered/voicemail/call_type describe the call in
CallRail's own terms (``abandoned`` = hung up within 15 s, ``missed`` = 15 s or more without a
message, duration = the seconds it rang) and its callbacks are CallRail ``outbound`` calls.

``reference/`` locations.csv, location_crosswalk.csv, business_hours.csv, pbx_systems.csv,
escalation_queues.csv (the dbt seeds; location i depends only on i, so N is a prefix of N+1).
locations.csv ends with ``forward_ring_seconds`` (28 at a location without a PBX, empty
elsewhere); pbx_systems.csv has ``pbx_id,timezone`` and ``phone_channel_pattern,
trunk_channel_pattern,dialled_number_from,encoding`` left empty (the warehouse's defaults read both
flavours); the crosswalk's ``pbx_queue`` rows are ``<pbx_id>:<queue>`` in the flavour's naming
(``pbx_east:4010``, ``pbx_west:loc_04_front``), its ``pbx_did`` rows the E.164 business
number; escalation_queues.csv: ``pbx_east,4999`` and ``pbx_west,tier2``.

``answer_key/`` (never read by the pipeline):
    ``outcomes_by_location.csv`` location_id, outcome, calls: inbound calls by true outcome
    (answered, voicemail, abandoned, missed, short_abandon, after_hours, spam; every pair).
    ``calls.csv`` one row per call (inbound and outbound callbacks): call_key, location_id,
    direction, origin (fresh/retry/follow_up/callback), caller_e164 (empty for junk and withheld
    caller ids),
    start_utc (the PBX trunk start; CallRail's start_time is 0-5 s earlier), callrail_id,
    pbx_linkedid, source (CallRail tracker source, empty if untracked), outcome (outbound:
    answered/no_answer), is_missed_opportunity, recovered_by_call_key, is_repeat_24h,
    is_repeat_7d, transfer (agent/escalation), wait_seconds (on the caller's clock, from the
    trunk's start: a FreePBX greeting included; for an unanswered call only CallRail saw,
    CallRail's duration, which for a voicemail includes the message), would_buy, ticket_usd,
    is_new_caller (first inbound call of the number at the location in the data set),
    missed_cause (for missed opportunities and after-hours calls: after_hours; at a PBX queue,
    the state the caller found: nobody_staffed, all_busy, or rang_no_answer for a free member
    rung; without a PBX, rang_no_answer for a phone that rang out, long_wait for a hang-up
    after 20 s, else no_callback), queue_wait_seconds (inbound calls that entered a PBX queue:
    seconds on the queue's clock, from the end of the greeting: the CONNECT holdtime when
    answered, else the waittime the caller left with; empty for every other call),
    has_voicemail (the caller reached voicemail: the voicemail outcome, or an after-hours call
    that left a message), attributed_revenue_usd (net revenue attributed to the call under the
    rule below).
    ``staffing.csv`` every PBX location's open weekday-hours: iso_weekday, hour (local),
    agents_staffed (the plan), expected_calls_per_hour (the fresh calls the plan was made
    for), demand_calls_per_hour (the queue calls of new demand that came, per open hour, over
    the complete days: not the first, not the spill-over; a retry after the queue left the
    caller unanswered is no new demand), agents_needed (Erlang C on that demand, 80 % within
    20 s at 230 s handle time) and agent_gap (needed - staffed).
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
    ``pbx_internal_calls.csv`` pbx_id, linkedid, kind, call_key, location_id: every PBX call
    that is nobody's call, in rendering order: kind ``internal`` (staff phone to phone,
    call_key empty) and ``consult`` (an attended transfer's consult call, call_key = the
    transferred call's key in calls.csv). None of them is in calls.csv or counted as a call.
    ``summary.json`` per location and ``total``: inbound calls (all seven outcomes) and
    outbound callbacks, outcome counts,
    answered, answer_rate, missed_opportunities, recovered_missed_opportunities,
    median_minutes_to_recovery, answered_inbound, repeat_contacts_24h/7d, transfers,
    escalations, internal_calls and consult_calls (the rows of pbx_internal_calls.csv), queue
    (over PBX queue calls, on the queue's clock as queue_log's CONNECT holdtime / ABANDON
    waittime count it: with a greeting, a call is a queue call only if it reached the queue,
    answered or unanswered with a wait of at least the greeting, and its hold or wait time is
    the call's wait less the greeting: answered, abandoned, average_speed_of_answer_seconds,
    service_level_20s = answered within 20 s / (answered + abandoned after 20 s),
    abandonment_rate, transfer_rate, escalation_rate), revenue, attributed_revenue,
    true_lost_revenue and true_lost_attributable_revenue (decimal strings).
    ``drifts.json`` (only with ``drifts``, ``--drift``) ``{"note", "drifts": [{"kind",
    "location_id", "first_local_day" (the location-local date from whose midnight it holds to
    the end), "day_index" (0 = start), "starts_utc", "days_in_effect", "change",
    "expected_effects", "parameter", ...}]}``: staffing_drop gives ``agent_hours_per_week``
    ``{"before", "after"}`` and ``hours`` (``iso_weekday, hour, before, after`` agents of every
    open weekday-hour), ring_time ``before``/``after`` ring-out shares, callbacks_stop
    ``before``/``after`` callback probabilities by outcome. staffing.csv stays the plan
    before any drift. summary.json then also lists them (``drifts``: kind, location_id,
    first_local_day). See :mod:`.drift`.
    ``defects.json`` (only with ``defects=True``) ``{"note", "defects": [{"file" (relative to
    landing), "line" (1-based, null for a whole file), "kind", "expected"}]}``; see
    :mod:`.defects`.

Truth rules used by the answer key. The key applies the written definitions of docs/metrics.md
(their comparisons: "Comparisons" and "Two waits") to what each system records, on the clock
each definition names (:func:`.answer_key.true_outcomes`), not the outcome the simulation
meant, so the key and the warehouse can disagree only where one of them departs from the
definitions:
- outcome precedence: spam, then after_hours (arrival outside business_hours in the location's
  zone), then what happened. At a PBX location the PBX's records: answered (a queue member
  answered), voicemail (a VoiceMail record), missed (the queue timed out, no message), else
  the caller hung up: short_abandon when the caller's wait (from the trunk's start, a FreePBX
  greeting included: the caller's clock, never the queue's) is below 10 s (exactly 10 s is
  not), else abandoned. At the mobile-only location (loc_03) CallRail's: its voicemail flag,
  its answered flag, then its duration (the seconds the mobile rang): short_abandon below
  10 s, abandoned below the mobile's ring time before its voicemail takes the call
  (locations.csv forward_ring_seconds, 28 s; CallRail itself calls a hang-up ``missed`` from
  15 s on), else missed. A caller whose patience ends exactly at the timeout rang out
  (everywhere), so a hang-up is strictly shorter than the timeout and a call that rang
  exactly the 28 s is missed.
- spam rule: a call is spam when its CallRail record has the tag ``spam``, or when its caller
  id is not a phone number at all (``anonymous``, ``Restricted``, empty, short numbers),
  whoever called and whether or not CallRail tracked it: a genuine caller who withholds the
  number makes a spam call. A valid number is never spam by its look: genuine callers with a
  spam area code, a toll-free number or ten repeated digits are not spam.
- queue figures (speed of answer, service level) on the queue's clock: the CONNECT holdtime or
  the ABANDON waittime, from the end of the greeting; "within T" is a queue wait of T (20 s)
  or less.
- recovered: a voicemail/abandoned/missed call followed within 24 h (start to start, the end
  included: exactly 24 h later still recovers) by an answered call with the same number,
  inbound or an outbound callback, at any location.
- repeat contact (W): an answered inbound call followed within W (the end included) by another
  non-spam inbound call from the same number, at any location.

Edge cases (:mod:`.sim`, drawn from a random stream of their own so their share does not depend
on the rest): the data lands on and around every threshold, and every system records those
calls to the second alike (a PBX call's start is the trunk's, which the key uses; the CallRail
record of a PBX call starts 0-5 s earlier, which no definition reads). An edge moves a call's
seconds onto a threshold, never what kind of call it is: 30 % of the open-hours, non-spam
inbound calls that ended within a few seconds of a threshold by themselves are snapped onto it,
only where the outcome, the side of T (on the queue's clock at a PBX, else the caller's),
whether the call reached the queue and who won the race (pick-up, hang-up, timeout, keypress)
stay as they were: at a PBX, a hang-up after 5-15 s moves to exactly 9 s (if it was below 10
s), else 10 or 11 s on the caller's clock or 9, 10 or 11 s on the queue's (3 s more for the
caller at a FreePBX); a queue hang-up 15-25 s into the queue to 20 or 21 s (the caller having
waited more than 15 s); a pick-up after 12-25 s of queue to 19, 20 or 21 s; without a PBX, a
hang-up after 5-15 s likewise, one after 23-27 s to 27 s. A call that rang out without a
message already ends exactly at the ring time (28 s at loc_03). So every outcome, and all that
follows from it (retries, callbacks, purchases, lost revenue), is what it would be without
edges. 5 % of callbacks (where the location is open then, and picked up) and of follow-up calls
start exactly 24 h, or 24 h and 1 s, after the call they follow. 0.4 % of genuine fresh calls
withhold the caller id (untracked at a PBX location, where a CallRail record and a PBX call
without a number could not be stitched; tracked at loc_03); nothing follows such a call. About
2 % of genuine callers have a spam area code or a toll-free number (:mod:`.phones`), and one
frequent caller at each of the first six locations ten repeated digits (2222222222 at loc_01).
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

Process drifts (``drifts=``, ``callshrink generate --drift``, :mod:`.drift`): documented
changes at one location from a local day to the end, for scoring drift detection.
``staffing_drop`` (PBX): the plan keeps ``agents // 2`` every open hour (the agent events in
queue_log follow it); ``ring_time`` (PBX): free members let the phone ring out 60 % of the
time; ``callbacks_stop``: no callbacks at or after the day's local midnight. ``--drift``
alone: staffing_drop at loc_01, ring_time at loc_02, callbacks_stop at loc_04, from day
``max(days // 2, days - 7)``. Without drifts nothing changes (same bytes); with them the
landing files of the UTC days before the first drift's day are the same as without (the random
stream differs from that UTC day on, so calls of the local evening before it may differ).

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
    drifts: object = None,
) -> dict:
    """Write ``out/landing``, ``out/reference`` and ``out/answer_key``; return counts.

    ``calls_per_location_day`` sets the mean daily volume of an average location (default
    that of the ``demo`` preset). ``drifts`` injects process changes (:mod:`.drift`): None
    (none), True or ``"default"`` (the default set) or a list of ``KIND:LOCATION:DAY``
    strings; a bad one raises :class:`.drift.DriftError` before anything is written. Same
    arguments give byte-identical files.
    """
    from callshrink.generate.drift import resolve
    from callshrink.generate.reference import locations as make_locations

    start = start or DEFAULT_START
    locs = make_locations(locations) if locations >= 1 else []
    resolved = resolve(
        drifts,
        [loc.location_id for loc in locs],
        [loc.pbx is not None for loc in locs],
        start,
        days,
    )
    params = Params()
    if calls_per_location_day is not None:
        params.calls_per_location_day = float(calls_per_location_day)
    summary = generate_tree(
        Path(out),
        locations_n=locations,
        days=days,
        seed=seed,
        start=start,
        params=params,
        progress=progress,
        drifts=tuple(resolved),
    )
    if defects:
        from callshrink.generate.defects import inject

        summary["defects"] = inject(Path(out))
    return summary
