"""Asterisk output: cdr-csv (Master.csv, 21 columns) and queue_log lines for one PBX, in the
PBX's flavour (:attr:`reference.Pbx.flavour`). The package docstring lists what each flavour
writes; in short, as Asterisk 12+ writes CDRs:

- every record's ``uniqueid`` is that of its ``channel`` (party A): every record whose channel
  is the caller's trunk channel (the trunk's own record, each queue-member attempt, voicemail,
  the leg after a transfer) carries the trunk's uniqueid, which is the call's ``linkedid`` and
  the queue_log ``callid``; records are told apart by ``sequence`` (increasing per PBX).
  Records of another channel (a ``Local/...;2`` half, a phone placing a consult call) carry
  that channel's own uniqueid and the call's linkedid; a consult call, an internal call and an
  outbound callback are their own linkedid.
- channel names end in ``-<8 hex>`` from a per-PBX counter; a Local pair shares its hex.
- ``freepbx``: trunk ``PJSIP/telnyx-in-`` / ``PJSIP/telnyx-out-``, phones ``PJSIP/<ext>-``,
  numbered queues (``4NN0``, escalation ``4999``), members ``Local/<ext>@from-queue/n`` (two
  records per attempt: trunk -> ``Local;1`` and ``Local;2`` -> phone), a greeting before the
  queue (the queue clock starts ``greeting_seconds`` after the trunk answered), a queue_log
  ``DID`` event, outbound context ``from-internal``.
- ``plain``: chan_sip ``SIP/provider-`` and ``SIP/<ext>-``, context ``inbound``, queues
  ``loc_NN_front`` / ``tier2``, phones as members (one record per attempt), ringall (2-3
  phones a round), outbound context ``from-sip-phones`` dialling ``1`` + 10 digits.

Rendering-only choices (consult timing, ringall sizes, internal calls) come from a random
generator of their own (``u`` rows and :func:`internal_calls`), never from the simulation's.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass

import numpy as np

from callshrink.generate import sim
from callshrink.generate.phones import JUNK_CALLER_IDS, carrier_format
from callshrink.generate.reference import FREEPBX, PLAIN, Location, Pbx
from callshrink.generate.staffing import FREE, RING_GAP, RING_SECONDS
from callshrink.generate.table import Table
from callshrink.generate.tz import Clock, TzTable

CNAM = ("WIRELESS CALLER", "", "{last} {first}", "{last} {first}", "{city} {state}")
ESCALATION_TIMEOUT = 300
ESCALATION_RING = 2  # seconds a tier-2 phone rings before it answers
# Uniform draws of the rendering generator per call (see PbxDay.inbound).
U_CONSULT_LEAD, U_CONSULT_ANSWER, U_RINGALL = 0, 1, 2
RENDER_DRAWS = U_RINGALL + 4  # ringall sizes of up to 3 ring-no-answer rounds + the answer one
# Internal (staff phone-to-phone) calls a location with a PBX makes per open day.
INTERNAL_CALLS_PER_DAY = 3.0
INTERNAL_ANSWERED_SHARE = 0.7


@dataclass(frozen=True)
class Flavour:
    """How one kind of Asterisk installation names and routes things."""

    trunk_in: str  # channel prefix of the inbound trunk
    trunk_out: str  # channel prefix of the outbound trunk
    tech: str  # the phones' channel technology
    inbound_context: str  # trunk records that never reach a queue (after hours, greeting)
    queue_context: str  # trunk records in a queue
    vm_context: str  # the voicemail record after the queue
    internal_context: str  # phones dialling (callbacks, consult and internal calls)
    queue_data_tail: str  # appended to ``<queue>,t,,,<timeout>`` in lastdata
    vm_options: str  # appended to ``<mailbox>@default`` in lastdata
    local_members: bool  # queue members are Local channels (two records per attempt)
    ringall: bool  # each ring round rings several members at once
    did_event: bool  # queue_log DID event before ENTERQUEUE; queue records' dst = the queue


FLAVOURS = {
    FREEPBX: Flavour(
        trunk_in="PJSIP/telnyx-in",
        trunk_out="PJSIP/telnyx-out",
        tech="PJSIP",
        inbound_context="from-pstn",
        queue_context="ext-queues",
        vm_context="ext-local",
        internal_context="from-internal",
        queue_data_tail=",,,,,",
        vm_options=",u",
        local_members=True,
        ringall=False,
        did_event=True,
    ),
    PLAIN: Flavour(
        trunk_in="SIP/provider",
        trunk_out="SIP/provider",
        tech="SIP",
        inbound_context="inbound",
        queue_context="inbound",
        vm_context="inbound",
        internal_context="from-sip-phones",
        queue_data_tail="",
        vm_options="",
        local_members=False,
        ringall=True,
        did_event=False,
    ),
}


@dataclass
class PbxState:
    """Counters that make uniqueids and channel names unique across the whole run."""

    pbx: Pbx
    tz: TzTable
    counter: int = 1000
    channel: int = 0x1A2B
    sequence: int = 0
    clock: Clock | None = None

    def __post_init__(self) -> None:
        self.clock = Clock(self.tz)
        self.flavour = FLAVOURS[self.pbx.flavour]

    def stamp(self, epoch: int) -> str:
        assert self.clock is not None
        return self.clock.stamp(epoch)

    def uid(self, epoch: int) -> str:
        self.counter += 1
        return f"{epoch}.{self.counter}"

    def hex(self) -> str:
        self.channel += 1
        return f"{self.channel:08x}"

    def chan(self, prefix: str) -> str:
        """A new channel: ``<prefix>-<8 hex>`` (prefix e.g. ``PJSIP/101``)."""
        self.channel += 1
        return f"{prefix}-{self.channel:08x}"


def _phone_ip(ext: str) -> str:
    return f"10.20.0.{int(ext) % 250 + 2}"


def _bridge_id(linked: str, channel: str) -> str:
    """A bridge's uuid-like id (deterministic: from the call and the target channel)."""
    h = hashlib.md5(f"{linked}|{channel}".encode(), usedforsecurity=False).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


class PbxDay:
    """Collects one step's CDR rows and queue_log lines for one PBX, then renders them.

    ``side`` (a list the PBXs of a step may share, so it is in rendering order) collects the
    PBX's calls that are nobody's inbound call, as ``(pbx_id, kind, linkedid, call_key,
    location index)`` with kind ``internal`` (staff phone to phone) or ``consult`` (an
    agent's consult call before an attended transfer, call_key = the transferred call); the
    generator hands them to the answer key."""

    def __init__(
        self, state: PbxState, side: list[tuple[str, str, str, str, int]] | None = None
    ) -> None:
        self.s = state
        self.f = state.flavour
        self.greeting = state.pbx.greeting_seconds
        self.cdr: list[tuple[int, int, str]] = []
        self.qlog: list[tuple[int, int, str]] = []
        self.side = [] if side is None else side
        self._n = 0

    # -- rows -------------------------------------------------------------------------------
    def _cdr(
        self,
        src: str,
        dst: str,
        dcontext: str,
        clid: str,
        channel: str,
        dstchannel: str,
        lastapp: str,
        lastdata: str,
        start: int,
        answer: int | None,
        end: int,
        disposition: str,
        uniqueid: str,
        linkedid: str,
    ) -> None:
        s = self.s
        s.sequence += 1
        billsec = end - answer if answer is not None else 0
        if '"' in clid:
            clid = clid.replace('"', '""')
        answered = s.stamp(answer) if answer is not None else ""
        line = (
            f'"","{src}","{dst}","{dcontext}","{clid}","{channel}","{dstchannel}","{lastapp}",'
            f'"{lastdata}","{s.stamp(start)}","{answered}","{s.stamp(end)}","{end - start}",'
            f'"{billsec}","{disposition}","DOCUMENTATION","{uniqueid}","","","{linkedid}",'
            f'"{s.sequence}"\n'
        )
        self.cdr.append((end, s.sequence, line))

    def _q(
        self, epoch: int, callid: str, queue: str, agent: str, event: str, *data: object
    ) -> None:
        tail = "|".join(map(str, data))
        self._n += 1
        self.qlog.append((epoch, self._n, f"{epoch}|{callid}|{queue}|{agent}|{event}|{tail}"))

    # -- naming -----------------------------------------------------------------------------
    def member(self, ext: str) -> str:
        """A queue member (the queue_log agent field)."""
        if self.f.local_members:
            return f"Local/{ext}@from-queue/n"
        return f"{self.f.tech}/{ext}"

    def phone(self, ext: str) -> str:
        return self.s.chan(f"{self.f.tech}/{ext}")

    def dial_phone(self, ext: str) -> str:
        """lastdata of a Dial to a phone."""
        if self.f.local_members:
            return f"PJSIP/{ext}/sip:{ext}@{_phone_ip(ext)}:5060,,HhTtr"
        return f"{self.f.tech}/{ext},30"

    def queue_data(self, queue: str, timeout: int) -> str:
        return f"{queue},t,,,{timeout}{self.f.queue_data_tail}"

    # -- staff ------------------------------------------------------------------------------
    def agent_events(self, loc: Location, hours: list[tuple[int, int, int]]) -> None:
        """The location's queue members through one open day: ``hours`` holds (start, end,
        agents available) per local hour, the first starting at the opening and the last
        ending at the closing. Agent k is on the phones in the hours with more than k agents:
        added to the queue (ADDMEMBER) for the first, removed (REMOVEMEMBER) after the last,
        and between two stretches paused (PAUSE/UNPAUSE, FreePBX's queue toggle) or removed
        and added again (plain). The times are exact: the plan is the answer key's truth."""
        assert loc.queue is not None
        for k, ext in enumerate(loc.extensions):
            on = [k < n for _, _, n in hours]
            if not any(on):
                continue
            agent = self.member(ext)
            first = on.index(True)
            last = len(on) - 1 - on[::-1].index(True)
            self._q(hours[first][0], "NONE", loc.queue, agent, "ADDMEMBER", "")
            for h in range(first + 1, last + 1):
                if on[h] == on[h - 1]:
                    continue
                at = hours[h][0]
                if self.f.local_members:
                    self._q(at, "NONE", loc.queue, agent, "UNPAUSE" if on[h] else "PAUSE", "")
                else:
                    event = "ADDMEMBER" if on[h] else "REMOVEMEMBER"
                    self._q(at, "NONE", loc.queue, agent, event, "")
            self._q(hours[last][1], "NONE", loc.queue, agent, "REMOVEMEMBER", "")

    def escalation_shift(self, login: int, logoff: int) -> None:
        """Tier-2 agents log in for the day (static agents: AGENTLOGIN / AGENTLOGOFF)."""
        pbx = self.s.pbx
        for k, ext in enumerate(pbx.escalation_extensions):
            agent = self.member(ext)
            self._q(login + 60 * k, "NONE", pbx.escalation_queue, agent, "AGENTLOGIN", agent)
            self._q(
                logoff + 60 * k,
                "NONE",
                pbx.escalation_queue,
                agent,
                "AGENTLOGOFF",
                agent,
                logoff - login,
            )

    def queue_start(self, epoch: int) -> None:
        self._q(epoch, "NONE", "NONE", "NONE", "QUEUESTART", "")

    # -- calls ------------------------------------------------------------------------------
    def inbound(
        self, loc: Location, c: dict, names: tuple[str, str, str, str], u: list[float]
    ) -> str:
        """Render one inbound call; return its linkedid. ``u`` holds ``RENDER_DRAWS``
        uniforms of the rendering generator for this call."""
        s, f = self.s, self.f
        t = int(c["t"])
        if c["junk"] >= 0:
            src = JUNK_CALLER_IDS[c["junk"]]
            clid = f'"{src}" <{src}>' if src else ""
        else:
            src = carrier_format(int(c["phone"]), int(c["present"]))
            first, last, city, state = names
            cnam = CNAM[int(c["phone"]) % len(CNAM)].format(
                first=first.upper(), last=last.upper(), city=city.upper(), state=state
            )
            clid = f'"{cnam}" <{src}>'
        did = loc.business_number[2:]  # 10 digits
        trunk = s.chan(f.trunk_in)
        linked = s.uid(t)
        kind, wait = int(c["exit_kind"]), int(c["wait"])
        if kind == sim.EXIT_AFTER_VM:
            self._cdr(
                src,
                did,
                f.inbound_context,
                clid,
                trunk,
                "",
                "VoiceMail",
                f"{loc.mailbox}@default{f.vm_options}",
                t,
                t,
                t + int(c["talk"]),
                "ANSWERED",
                linked,
                linked,
            )
            return linked
        if kind != sim.EXIT_NONE and wait < self.greeting:  # hung up during the greeting
            self._cdr(
                src,
                did,
                f.inbound_context,
                clid,
                trunk,
                "",
                "Playback",
                f"custom/greeting-loc{loc.index:02d}",
                t,
                t,
                t + wait,
                "ANSWERED",
                linked,
                linked,
            )
            return linked
        queue = loc.queue or ""
        call = _Call(
            loc=loc,
            c=c,
            src=src,
            clid=clid,
            trunk=trunk,
            linked=linked,
            queue=queue,
            dst=queue if f.did_event else did,
            data=self.queue_data(queue, loc.queue_timeout),
            did=did,
            q0=t + self.greeting,
            u=u,
        )
        end = int(sim.end_time_one(c))
        self._cdr(
            src,
            call.dst,
            f.queue_context,
            clid,
            trunk,
            "",
            "Queue",
            call.data,
            t,
            t,
            end,
            "ANSWERED",
            linked,
            linked,
        )
        pos = int(c["position"])
        if f.did_event:
            self._q(call.q0, linked, queue, "NONE", "DID", did)
        self._q(call.q0, linked, queue, "NONE", "ENTERQUEUE", "", src, pos)
        if kind == sim.EXIT_NONE:  # answered by an agent
            self._answered(call, end)
        else:
            self._rings(call, t + wait)
            if int(c["staff_state"]) == FREE:
                self._ring_cancelled(call, t + wait)
            self._unanswered(call)
        return linked

    def _attempt(
        self,
        call: _Call,
        ext: str,
        start: int,
        answer: int | None,
        end: int,
        dst: str | None = None,
        data: str | None = None,
    ) -> tuple[str, str]:
        """The CDR record(s) of one queue member rung from the caller's trunk; returns the
        uniqueid of the member channel (the queue_log CONNECT's bridged uniqueid) and the
        phone channel's name."""
        s = self.s
        dst = call.dst if dst is None else dst
        data = call.data if data is None else data
        disposition = "NO ANSWER" if answer is None else "ANSWERED"
        phone = self.phone(ext)
        if not self.f.local_members:
            self._cdr(
                call.src,
                dst,
                self.f.queue_context,
                call.clid,
                call.trunk,
                phone,
                "Queue",
                data,
                start,
                answer,
                end,
                disposition,
                call.linked,
                call.linked,
            )
            return (s.uid(start) if answer is not None else ""), phone
        local = f"Local/{ext}@from-queue-{s.hex()}"
        uid1, uid2 = s.uid(start), s.uid(start)
        self._cdr(
            call.src,
            dst,
            self.f.queue_context,
            call.clid,
            call.trunk,
            f"{local};1",
            "Queue",
            data,
            start,
            answer,
            end,
            disposition,
            call.linked,
            call.linked,
        )
        self._cdr(
            call.src,
            "s",
            "macro-dial-one",
            call.clid,
            f"{local};2",
            phone,
            "Dial",
            self.dial_phone(ext),
            start,
            answer,
            end,
            disposition,
            uid2,
            call.linked,
        )
        return uid1, phone

    def _round_size(self, call: _Call, k: int) -> int:
        """Members rung at once in ring round ``k`` (1 unless ringall: 2 or 3, fewer than the
        location's agents)."""
        if not self.f.ringall:
            return 1
        size = 2 + int(call.u[U_RINGALL + min(k, 3)] < 0.5)
        return min(size, len(call.loc.extensions) - 1)

    def _rings(self, call: _Call, limit: int) -> None:
        """The sim's ring-no-answer rounds, from 2 s after the caller entered the queue, each
        ``RING_SECONDS`` long; rounds that would not end by ``limit`` (the answering ring or
        the caller's exit) are dropped."""
        c, loc = call.c, call.loc
        n_ext = len(loc.extensions)
        agent = int(c["agent"])
        for k in range(int(c["n_rna"])):
            start = call.q0 + 2 + k * RING_GAP
            end = start + RING_SECONDS
            if end > limit:
                break
            for j in range(self._round_size(call, k)):
                ext = loc.extensions[(agent + 1 + k + j) % n_ext]
                self._attempt(call, ext, start, None, end)
                self._q(
                    end,
                    call.linked,
                    call.queue,
                    self.member(ext),
                    "RINGNOANSWER",
                    RING_SECONDS * 1000,
                )

    def _ring_cancelled(self, call: _Call, exit_t: int) -> None:
        """The caller left while members' phones were ringing: those attempts end unanswered
        when they leave, and the queue logs RINGCANCELED (ring time in ms) for each."""
        c, loc = call.c, call.loc
        rounds = int(c["n_rna"])
        start = call.q0 + 2 + rounds * RING_GAP
        if not start < exit_t < start + RING_SECONDS:
            return
        n_ext = len(loc.extensions)
        for j in range(self._round_size(call, rounds)):
            ext = loc.extensions[(int(c["agent"]) + 1 + rounds + j) % n_ext]
            self._attempt(call, ext, start, None, exit_t)
            ring_ms = (exit_t - start) * 1000
            self._q(exit_t, call.linked, call.queue, self.member(ext), "RINGCANCELED", ring_ms)

    def _answered(self, call: _Call, end: int) -> None:
        c, loc, s = call.c, call.loc, self.s
        t, wait, talk = int(c["t"]), int(c["wait"]), int(c["talk"])
        connect = t + wait
        hold = wait - self.greeting
        pos = int(c["position"])
        leg_start = max(connect - int(c["ring"]), call.q0)
        self._rings(call, leg_start)
        agent = int(c["agent"])
        ext = loc.extensions[agent]
        xfer = int(c["xfer"])
        agent_end = connect + (int(c["xfer_at"]) if xfer else talk)
        member_uid, _ = self._attempt(call, ext, leg_start, connect, agent_end)
        n_ext = len(loc.extensions)
        for j in range(self._round_size(call, int(c["n_rna"])) - 1):  # ringall: the others
            self._attempt(call, loc.extensions[(agent + 1 + j) % n_ext], leg_start, None, connect)
        queue, linked = call.queue, call.linked
        self._q(
            connect,
            linked,
            queue,
            self.member(ext),
            "CONNECT",
            hold,
            member_uid,
            connect - leg_start,
        )
        calltime = agent_end - connect
        if xfer == sim.XFER_NONE:
            event = "COMPLETECALLER" if int(c["key"]) % 2 else "COMPLETEAGENT"
            self._q(end, linked, queue, self.member(ext), event, hold, calltime, pos)
            return
        pbx = s.pbx
        if xfer == sim.XFER_ESCALATION:
            esc = pbx.escalation_queue
            ext2 = pbx.escalation_extensions[int(c["agent2"]) % len(pbx.escalation_extensions)]
            self._q(
                agent_end,
                linked,
                queue,
                self.member(ext),
                "BLINDTRANSFER",
                esc,
                self.f.internal_context,
                hold,
                calltime,
                pos,
            )
            self._q(agent_end, linked, esc, "NONE", "ENTERQUEUE", "", call.src, 1)
            x_wait = int(c["xfer_wait"])
            answer = agent_end + x_wait
            ring_start = max(answer - ESCALATION_RING, agent_end)
            leg_uid, _ = self._attempt(
                call,
                ext2,
                ring_start,
                answer,
                end,
                dst=esc if self.f.did_event else call.did,
                data=self.queue_data(esc, ESCALATION_TIMEOUT),
            )
            self._q(
                answer,
                linked,
                esc,
                self.member(ext2),
                "CONNECT",
                x_wait,
                leg_uid,
                answer - ring_start,
            )
            self._q(end, linked, esc, self.member(ext2), "COMPLETECALLER", x_wait, end - answer, 1)
            return
        # Attended transfer: the agent's phone calls the target's phone on a new channel (its
        # own linkedid), then the caller is bridged to that target channel.
        ext2 = loc.extensions[int(c["agent2"])]
        lead = 8 + int(call.u[U_CONSULT_LEAD] * 33)  # 8-40 s
        consult_start = max(agent_end - lead, connect)
        consult_answer = min(consult_start + 2 + int(call.u[U_CONSULT_ANSWER] * 3), agent_end)
        consult_chan = self.phone(ext)
        target = self.phone(ext2)
        consult_uid = s.uid(consult_start)
        self._cdr(
            ext,
            ext2,
            self.f.internal_context,
            f'"{loc.name} {ext}" <{ext}>',
            consult_chan,
            target,
            "Dial",
            self.dial_phone(ext2),
            consult_start,
            consult_answer,
            agent_end,
            "ANSWERED",
            consult_uid,
            consult_uid,
        )
        self.side.append((s.pbx.pbx_id, "consult", consult_uid, str(int(c["key"])), loc.index - 1))
        self._q(
            agent_end,
            linked,
            queue,
            self.member(ext),
            "ATTENDEDTRANSFER",
            "BRIDGE",
            _bridge_id(linked, target),
            hold,
            calltime,
            pos,
        )
        self._cdr(
            call.src,
            call.dst,
            self.f.queue_context,
            call.clid,
            call.trunk,
            target,
            "Queue",
            call.data,
            agent_end,
            agent_end,
            end,
            "ANSWERED",
            linked,
            linked,
        )

    def _unanswered(self, call: _Call) -> None:
        c, f = call.c, self.f
        kind, wait = int(c["exit_kind"]), int(c["wait"])
        exit_t = int(c["t"]) + wait
        waited = wait - self.greeting
        pos = int(c["position"])
        linked, queue = call.linked, call.queue
        if kind == sim.EXIT_ABANDON:
            self._q(exit_t, linked, queue, "NONE", "ABANDON", 1, pos, waited)
            return
        if kind == sim.EXIT_KEY_VM:
            self._q(exit_t, linked, queue, "NONE", "EXITWITHKEY", 1, 1, pos, waited)
        else:
            self._q(exit_t, linked, queue, "NONE", "EXITWITHTIMEOUT", 1, pos, waited)
        if kind in (sim.EXIT_KEY_VM, sim.EXIT_TIMEOUT_VM):
            mailbox = call.loc.mailbox
            self._cdr(
                call.src,
                f"vmu{mailbox}" if f.did_event else call.did,
                f.vm_context,
                call.clid,
                call.trunk,
                "",
                "VoiceMail",
                f"{mailbox}@default{f.vm_options}",
                exit_t,
                exit_t,
                exit_t + int(c["talk"]),
                "ANSWERED",
                linked,
                linked,
            )

    def outbound(self, loc: Location, c: dict) -> str:
        """An agent's callback: the phone dials the customer over the outbound trunk."""
        s, f = self.s, self.f
        t = int(c["t"])
        ext = loc.extensions[int(c["agent"])]
        national = str(int(c["phone"]))
        if f.local_members:  # FreePBX dials 10 digits through the outbound route's trunk
            number, data = national, f"PJSIP/{national}@telnyx-out,300,T"
        else:
            number = f"1{national}"
            data = f"SIP/provider/{number},60"
        uid = s.uid(t)
        answered = int(c["outcome"]) == sim.ANSWERED
        answer = t + int(c["wait"]) if answered else None
        end = t + int(c["wait"]) + int(c["talk"])
        self._cdr(
            ext,
            number,
            f.internal_context,
            f'"{loc.name} {ext}" <{ext}>',
            self.phone(ext),
            s.chan(f.trunk_out),
            "Dial",
            data,
            t,
            answer,
            end,
            "ANSWERED" if answered else "NO ANSWER",
            uid,
            uid,
        )
        return uid

    def internal(self, loc: Location, call: InternalCall) -> str:
        """A staff phone-to-phone call (nobody's inbound call); returns its linkedid."""
        ext, ext2 = loc.extensions[call.caller], loc.extensions[call.callee]
        uid = self.s.uid(call.start)
        self._cdr(
            ext,
            ext2,
            self.f.internal_context,
            f'"{loc.name} {ext}" <{ext}>',
            self.phone(ext),
            self.phone(ext2),
            "Dial",
            self.dial_phone(ext2),
            call.start,
            call.answer,
            call.end,
            "NO ANSWER" if call.answer is None else "ANSWERED",
            uid,
            uid,
        )
        self.side.append((self.s.pbx.pbx_id, "internal", uid, "", loc.index - 1))
        return uid

    # -- output -----------------------------------------------------------------------------
    def flush(self, until: int | None) -> tuple[str, str, int, int]:
        """CDR and queue_log text of everything that ended / happened before ``until``
        (everything if None), in time order; later rows stay buffered. Calls (inbound,
        outbound and internal alike) are rendered in start order and nothing of a call
        starts before the call, so nothing rendered later can come before ``until``."""
        cdr, self.cdr = _split(self.cdr, until)
        qlog, self.qlog = _split(self.qlog, until)
        return (
            "".join(r[2] for r in cdr),
            "".join(r[2] + "\n" for r in qlog),
            len(cdr),
            len(qlog),
        )


@dataclass
class _Call:
    """An inbound call being rendered, with what its records share."""

    loc: Location
    c: dict
    src: str
    clid: str
    trunk: str
    linked: str
    queue: str
    dst: str  # dst of the queue records (the queue in FreePBX, the DID in plain)
    data: str  # lastdata of the queue records
    did: str  # the dialled number, 10 digits
    q0: int  # when the caller entered the queue (after the greeting)
    u: list[float]


@dataclass(frozen=True)
class InternalCall:
    start: int
    loc: int  # location index (0-based)
    caller: int  # extension indexes
    callee: int
    answer: int | None
    end: int


def internal_calls(
    rng: np.random.Generator, loc: int, n_ext: int, open_t: int, close_t: int
) -> list[InternalCall]:
    """One open day's internal calls at one location: Poisson(3) calls between two of its
    extensions at random times within opening hours, 70 % answered (talk 20-300 s after 3-10
    s of ringing), else NO ANSWER after 15-25 s. ``rng`` is the rendering generator."""
    n = int(rng.poisson(INTERNAL_CALLS_PER_DAY))
    start = open_t + rng.integers(0, max(close_t - open_t, 1), n)
    a = rng.integers(0, n_ext, n)
    b = (a + 1 + rng.integers(0, n_ext - 1, n)) % n_ext
    answered = rng.random(n) < INTERNAL_ANSWERED_SHARE
    ring = rng.integers(3, 11, n)
    talk = rng.integers(20, 301, n)
    no_answer = rng.integers(15, 26, n)
    out = []
    for i in range(n):
        s = int(start[i])
        if answered[i]:
            answer = s + int(ring[i])
            out.append(InternalCall(s, loc, int(a[i]), int(b[i]), answer, answer + int(talk[i])))
        else:
            out.append(InternalCall(s, loc, int(a[i]), int(b[i]), None, s + int(no_answer[i])))
    return out


def _split(
    rows: list[tuple[int, int, str]], until: int | None
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    rows.sort(key=lambda r: (r[0], r[1]))
    if until is None:
        return rows, []
    k = bisect.bisect_left(rows, until, key=lambda r: r[0])
    return rows[:k], rows[k:]


def rows(calls: Table) -> list[dict]:
    names = list(calls.cols)
    arrays = [calls[n].tolist() for n in names]
    return [dict(zip(names, vals, strict=True)) for vals in zip(*arrays, strict=True)]
