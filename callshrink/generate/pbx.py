"""Asterisk output: cdr-csv (Master.csv, 21 columns) and queue_log lines for one PBX.

Conventions (also in the package docstring):
- trunk leg: channel ``PJSIP/trunk-<hex>``, empty dstchannel, lastapp ``Queue`` (``VoiceMail``
  after hours), disposition ANSWERED, ``answer`` = ``start``; its uniqueid is the call's
  ``linkedid`` and the queue_log ``callid``.
- one leg per agent ring (NO ANSWER / ANSWERED), a ``VoiceMail`` leg for voicemail in open hours,
  a ``Queue`` leg into the escalation queue for escalations, a ``Dial`` leg for attended
  transfers to another agent.
- outbound callbacks: dcontext ``from-internal``, src the agent extension, their own linkedid.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from callshrink.generate import sim
from callshrink.generate.phones import JUNK_CALLER_IDS, carrier_format, did_format
from callshrink.generate.reference import Location, Pbx
from callshrink.generate.table import Table
from callshrink.generate.tz import Clock, TzTable

RING_SECONDS = 15
RING_GAP = 17
CNAM = ("WIRELESS CALLER", "", "{last} {first}", "{last} {first}", "{city} {state}")


@dataclass
class PbxState:
    """Counters that make uniqueids and channel names unique across the whole run."""

    pbx: Pbx
    tz: TzTable
    did_style: int
    counter: int = 1000
    channel: int = 0x1A2B
    sequence: int = 0
    clock: Clock | None = None

    def __post_init__(self) -> None:
        self.clock = Clock(self.tz)

    def stamp(self, epoch: int) -> str:
        assert self.clock is not None
        return self.clock.stamp(epoch)

    def uid(self, epoch: int) -> str:
        self.counter += 1
        return f"{epoch}.{self.counter}"

    def chan(self, prefix: str) -> str:
        self.channel += 1
        return f"PJSIP/{prefix}-{self.channel:08x}"


class PbxDay:
    """Collects one step's CDR rows and queue_log lines for one PBX, then renders them."""

    def __init__(self, state: PbxState) -> None:
        self.s = state
        self.cdr: list[tuple[int, int, str]] = []
        self.qlog: list[tuple[int, int, str]] = []
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

    def agent_events(
        self, loc: Location, open_t: int, close_t: int, rng: np.random.Generator
    ) -> None:
        assert loc.queue is not None
        for k, ext in enumerate(loc.extensions):
            on = open_t - int(rng.integers(60, 900))
            self._q(on, "NONE", loc.queue, f"PJSIP/{ext}", "ADDMEMBER", "")
            if k % 2 == 0:
                lunch = open_t + (close_t - open_t) // 2 + int(rng.integers(-1800, 1800))
                self._q(lunch, "NONE", loc.queue, f"PJSIP/{ext}", "PAUSE", "Lunch")
                self._q(
                    lunch + int(rng.integers(1200, 3600)),
                    "NONE",
                    loc.queue,
                    f"PJSIP/{ext}",
                    "UNPAUSE",
                    "",
                )
            self._q(
                close_t + int(rng.integers(0, 900)),
                "NONE",
                loc.queue,
                f"PJSIP/{ext}",
                "REMOVEMEMBER",
                "",
            )

    def escalation_shift(self, login: int, logoff: int) -> None:
        """Tier-2 agents log in for the day (static agents: AGENTLOGIN / AGENTLOGOFF)."""
        pbx = self.s.pbx
        for k, ext in enumerate(pbx.escalation_extensions):
            agent = f"PJSIP/{ext}"
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
    def inbound(self, loc: Location, c: dict, names: tuple[str, str, str, str]) -> str:
        """Render one inbound call; return its linkedid."""
        s = self.s
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
        dst = did_format(loc.business_number, s.did_style)
        trunk = s.chan("trunk")
        linked = s.uid(t)
        end = int(sim.end_time_one(c))
        queue = loc.queue or ""
        qdata = f"{queue},t,,,{loc.queue_timeout}"
        mailbox = f"{loc.mailbox}@default"
        if c["exit_kind"] == sim.EXIT_AFTER_VM:
            self._cdr(
                src,
                dst,
                "from-trunk",
                clid,
                trunk,
                "",
                "VoiceMail",
                mailbox,
                t,
                t,
                t + int(c["talk"]),
                "ANSWERED",
                linked,
                linked,
            )
            return linked
        wait = int(c["wait"])
        pos = int(c["position"])
        self._q(t, linked, queue, "NONE", "DID", dst)
        self._q(t, linked, queue, "NONE", "ENTERQUEUE", "", src, pos)
        self._rings(loc, c, src, dst, clid, trunk, linked, qdata, queue)
        ext = loc.extensions[int(c["agent"])]
        if c["exit_kind"] == sim.EXIT_NONE:  # answered by an agent
            self._answered(loc, c, src, dst, clid, trunk, linked, qdata, queue, ext, end)
        else:
            self._unanswered(c, src, dst, clid, trunk, linked, queue, mailbox, t + wait, pos)
        self._cdr(
            src,
            dst,
            "from-trunk",
            clid,
            trunk,
            "",
            "Queue",
            qdata,
            t,
            t,
            end,
            "ANSWERED",
            linked,
            linked,
        )
        return linked

    def _rings(
        self,
        loc: Location,
        c: dict,
        src: str,
        dst: str,
        clid: str,
        trunk: str,
        linked: str,
        qdata: str,
        queue: str,
    ) -> None:
        t = int(c["t"])
        n_ext = len(loc.extensions)
        for k in range(int(c["n_rna"])):
            ext = loc.extensions[(int(c["agent"]) + 1 + k) % n_ext]
            start = t + 2 + k * RING_GAP
            self._cdr(
                src,
                ext,
                "from-trunk",
                clid,
                trunk,
                self.s.chan(ext),
                "Queue",
                qdata,
                start,
                None,
                start + RING_SECONDS,
                "NO ANSWER",
                self.s.uid(start),
                linked,
            )
            self._q(
                start + RING_SECONDS,
                linked,
                queue,
                f"PJSIP/{ext}",
                "RINGNOANSWER",
                RING_SECONDS * 1000,
            )

    def _answered(
        self,
        loc: Location,
        c: dict,
        src: str,
        dst: str,
        clid: str,
        trunk: str,
        linked: str,
        qdata: str,
        queue: str,
        ext: str,
        end: int,
    ) -> None:
        s = self.s
        t, wait, ring, talk = int(c["t"]), int(c["wait"]), int(c["ring"]), int(c["talk"])
        connect = t + wait
        pos = int(c["position"])
        leg_start = connect - ring
        agent_uid = s.uid(leg_start)
        xfer = int(c["xfer"])
        agent_end = connect + (int(c["xfer_at"]) if xfer else talk)
        self._cdr(
            src,
            ext,
            "from-trunk",
            clid,
            trunk,
            s.chan(ext),
            "Queue",
            qdata,
            leg_start,
            connect,
            agent_end,
            "ANSWERED",
            agent_uid,
            linked,
        )
        self._q(connect, linked, queue, f"PJSIP/{ext}", "CONNECT", wait, agent_uid, ring)
        calltime = agent_end - connect
        if xfer == sim.XFER_NONE:
            event = "COMPLETECALLER" if int(c["key"]) % 2 else "COMPLETEAGENT"
            self._q(end, linked, queue, f"PJSIP/{ext}", event, wait, calltime, pos)
            return
        assert loc.pbx is not None
        x_wait = int(c["xfer_wait"])
        if xfer == sim.XFER_ESCALATION:
            esc = loc.pbx.escalation_queue
            ext2 = loc.pbx.escalation_extensions[int(c["agent2"]) % 3]
            self._q(
                agent_end,
                linked,
                queue,
                f"PJSIP/{ext}",
                "BLINDTRANSFER",
                esc,
                "from-internal",
                wait,
                calltime,
                pos,
            )
            self._q(agent_end, linked, esc, "NONE", "ENTERQUEUE", "", src, 1)
            answer = agent_end + x_wait
            leg_uid = s.uid(agent_end)
            self._q(answer, linked, esc, f"PJSIP/{ext2}", "CONNECT", x_wait, leg_uid, 2)
            self._q(end, linked, esc, f"PJSIP/{ext2}", "COMPLETECALLER", x_wait, end - answer, 1)
            self._cdr(
                src,
                ext2,
                "from-internal",
                clid,
                trunk,
                s.chan(ext2),
                "Queue",
                f"{esc},t,,,300",
                agent_end,
                answer,
                end,
                "ANSWERED",
                leg_uid,
                linked,
            )
            return
        ext2 = loc.extensions[int(c["agent2"])]
        self._q(
            agent_end,
            linked,
            queue,
            f"PJSIP/{ext}",
            "ATTENDEDTRANSFER",
            "BRIDGE",
            f"{linked}-{ext2}",
            wait,
            calltime,
            pos,
        )
        self._cdr(
            src,
            ext2,
            "from-internal",
            clid,
            trunk,
            s.chan(ext2),
            "Dial",
            f"PJSIP/{ext2},30",
            agent_end,
            agent_end + 3,
            end,
            "ANSWERED",
            s.uid(agent_end),
            linked,
        )

    def _unanswered(
        self,
        c: dict,
        src: str,
        dst: str,
        clid: str,
        trunk: str,
        linked: str,
        queue: str,
        mailbox: str,
        exit_t: int,
        pos: int,
    ) -> None:
        kind, wait = int(c["exit_kind"]), int(c["wait"])
        if kind == sim.EXIT_ABANDON:
            self._q(exit_t, linked, queue, "NONE", "ABANDON", 1, pos, wait)
            return
        if kind == sim.EXIT_KEY_VM:
            self._q(exit_t, linked, queue, "NONE", "EXITWITHKEY", 1, 1, pos, wait)
        else:
            self._q(exit_t, linked, queue, "NONE", "EXITWITHTIMEOUT", 1, pos, wait)
        if kind in (sim.EXIT_KEY_VM, sim.EXIT_TIMEOUT_VM):
            self._cdr(
                src,
                dst,
                "from-trunk",
                clid,
                trunk,
                "",
                "VoiceMail",
                mailbox,
                exit_t,
                exit_t,
                exit_t + int(c["talk"]),
                "ANSWERED",
                self.s.uid(exit_t),
                linked,
            )

    def outbound(self, loc: Location, c: dict) -> str:
        s = self.s
        t = int(c["t"])
        ext = loc.extensions[int(c["agent"])]
        number = carrier_format(int(c["phone"]), 1 + int(c["present"]) % 2)
        uid = s.uid(t)
        answered = int(c["outcome"]) == sim.ANSWERED
        answer = t + int(c["wait"]) if answered else None
        end = t + int(c["wait"]) + int(c["talk"])
        self._cdr(
            ext,
            number,
            "from-internal",
            f'"{loc.name} {ext}" <{ext}>',
            s.chan(ext),
            s.chan("trunk"),
            "Dial",
            f"PJSIP/{number}@trunk,60",
            t,
            answer,
            end,
            "ANSWERED" if answered else "NO ANSWER",
            uid,
            uid,
        )
        return uid

    # -- output -----------------------------------------------------------------------------
    def flush(self, until: int | None) -> tuple[str, str, int, int]:
        """CDR and queue_log text of everything that ended / happened before ``until``
        (everything if None), in time order; later rows stay buffered. Calls are rendered
        in start order, so nothing rendered later can come before ``until``."""
        cdr, self.cdr = _split(self.cdr, until)
        qlog, self.qlog = _split(self.qlog, until)
        return (
            "".join(r[2] for r in cdr),
            "".join(r[2] + "\n" for r in qlog),
            len(cdr),
            len(qlog),
        )


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
