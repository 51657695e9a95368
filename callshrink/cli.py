"""The `callshrink` command: private database, demo data, pipeline runs, the app."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg

from callshrink import __version__, db, settings
from callshrink.generate.presets import DEFAULT_PRESET, PRESETS

DEMO_DIR_NAME = "demo"


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


# --- db ---------------------------------------------------------------------------------------


def cmd_db(args: argparse.Namespace) -> int:
    try:
        return _db_action(args)
    except (RuntimeError, ValueError) as error:  # no server, no app role, a bad role name
        raise SystemExit(f"callshrink db {args.db_command}: {error}") from None


def _db_action(args: argparse.Namespace) -> int:
    if args.db_command == "start":
        if settings.configured_database_url():
            print(f"{settings.DATABASE_URL_VAR} is set: using that server, no private one started.")
            return 0
        print(db.start_private())
        return 0
    if args.db_command == "stop":
        stopped = db.stop_private()
        print("private server stopped" if stopped else "private server was not running")
        return 0
    if args.db_command == "status":
        configured = settings.configured_database_url()
        if configured:
            print(f"warehouse: {settings.redacted(configured)} (from {settings.DATABASE_URL_VAR})")
        status = db.private_status()
        state = f"running (pid {status.pid})" if status.running else "stopped"
        print(f"private server: {state}, data in {status.pgdata}")
        app_url = settings.configured_app_database_url()
        if app_url:
            print(f"app: {settings.redacted(app_url)} (from {settings.APP_DATABASE_URL_VAR})")
        else:
            print(
                f"app role: {settings.app_role()} (read-only; its password for the private "
                f"server in {settings.app_password_file()})"
            )
        staff_url = settings.configured_staff_database_url()
        if staff_url:
            print(f"staff: {settings.redacted(staff_url)} (from {settings.STAFF_DATABASE_URL_VAR})")
        elif not configured:
            print(
                f"staff role: {settings.STAFF_ROLE} (reads callers' numbers; its password for "
                f"the private server in {settings.staff_password_file()})"
            )
        return 0
    if args.db_command == "url":
        if args.role == "app":
            url = db.app_database_url(start=args.start)
        elif args.role == "staff":
            url = db.staff_database_url(start=args.start)
            if url is None:
                raise RuntimeError(
                    f"{settings.STAFF_DATABASE_URL_VAR} is not set: on a server of your own, "
                    "create a staff role and set it (docs/privacy.md)"
                )
        else:
            url = db.database_url(start=args.start)
        print(url if args.show_password else settings.redacted(url))
        return 0
    if args.db_command == "env":
        db.activate(start=args.start)  # the app's role exists before dbt grants it the marts
        for name, value in db.dbt_env().items():
            print(f"export {name}={shlex.quote(value)}")
        print(f"export DBT_PROFILES_DIR={shlex.quote(str(settings.PROJECT_DIR))}")
        return 0
    raise AssertionError(args.db_command)


# --- run --------------------------------------------------------------------------------------


def _use_folders(landing: Path | None, reference: Path | None) -> None:
    if landing is not None:
        os.environ["CALLSHRINK_LANDING_DIR"] = str(landing.resolve())
    if reference is not None:
        os.environ["CALLSHRINK_REFERENCE_DIR"] = str(reference.resolve())
    if "DAGSTER_HOME" not in os.environ:
        home = settings.home_dir() / "dagster"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists():  # callshrink's own Dagster home: no usage statistics sent
            config.write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)


def cmd_run(args: argparse.Namespace) -> int:
    from callshrink.ingest.loader import landing_problem
    from callshrink.pipeline import run_pipeline

    if args.landing is not None:
        given = "named by --landing"
    elif os.environ.get("CALLSHRINK_LANDING_DIR"):
        given = "named by CALLSHRINK_LANDING_DIR"
    else:
        given = "used by default: name yours with --landing DIR or CALLSHRINK_LANDING_DIR"
    _use_folders(args.landing, args.reference)
    problem = landing_problem(settings.landing_dir())
    if problem:
        raise SystemExit(
            f"callshrink run: {problem}\n"
            f"  (the folder {given}. Nothing was loaded or built; `callshrink generate "
            "--out DIR` writes a demo one in DIR/landing)"
        )
    reference = settings.reference_dir()
    if not reference.is_dir():
        raise SystemExit(f"callshrink run: the reference folder {reference} does not exist")
    db.activate()
    if args.validate_all:
        from orchestration.defs.quality import VALIDATE_VAR

        os.environ[VALIDATE_VAR] = "all"
    if args.reread_files:
        from orchestration.defs.ingestion import REREAD_VAR

        os.environ[REREAD_VAR] = "1"
    if args.load_threads is not None:
        from orchestration.defs.ingestion import LOAD_THREADS_VAR

        os.environ[LOAD_THREADS_VAR] = str(args.load_threads)
    result = run_pipeline(quiet=args.quiet, full_refresh=args.full_refresh)
    if args.summary_json is not None:
        _write_summary_json(result, args.summary_json)
    return 0 if result.success else 1


def _write_summary_json(result: object, path: Path) -> None:
    """The run's summary as JSON: loads, checks, seconds by step, and the peak memory of this
    process in MB (loading and the checks run in it; dbt runs in a child, whose peak Linux
    does not tell apart from this process's at the time it started)."""
    import dataclasses
    import json
    import resource

    peak_kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    document = {**dataclasses.asdict(result), "peak_memory_mb": peak_kilobytes >> 10}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


def cmd_quarantine(args: argparse.Namespace) -> int:
    from callshrink.ingest.quarantine import MoveError, move_to_quarantine, print_quarantine
    from callshrink.ingest.tables import RAW_TABLES

    names = sorted(table.identifier for table in RAW_TABLES)
    if args.table is not None and args.table not in names:
        raise SystemExit(
            f"callshrink quarantine --table: no raw table {args.table!r}; one of {', '.join(names)}"
        )
    if args.move and not (args.reason or "").strip():
        raise SystemExit("callshrink quarantine --move: say why with --reason TEXT")
    db.activate()
    if not args.move:
        return print_quarantine(table=args.table, limit=args.limit)
    try:
        with db.connect() as conn:
            done = move_to_quarantine(conn, args.move, f"moved by hand: {args.reason.strip()}")
    except MoveError as exc:
        raise SystemExit(f"callshrink quarantine --move: {exc}; nothing was moved") from None
    print("\n".join(done))
    print(
        "`callshrink run` rebuilds without them (calls older than the incremental window: "
        "`callshrink run --full-refresh`)."
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from callshrink import health

    db.activate()
    with db.connect(autocommit=True) as conn:
        try:
            report = health.read(conn)
        except health.HealthUnavailable as error:
            raise SystemExit(f"callshrink doctor: {error}") from None
    print(report.text())
    return 1 if report.warnings else 0


def cmd_export(args: argparse.Namespace) -> int:
    from callshrink import finance

    try:
        month = finance.parse_month(args.month)
    except finance.FinanceError as error:
        raise SystemExit(f"callshrink export finance: {error}") from None
    db.activate()
    with db.connect(autocommit=True) as conn:
        try:
            rows = finance.export_month(conn, month, args.out, level=args.level)
        except finance.FinanceError as error:
            raise SystemExit(f"callshrink export finance: {error}") from None
    print(f"{args.out}: {rows} rows ({args.level}, {month})")
    return 0


def cmd_callbacks(args: argparse.Namespace) -> int:
    from callshrink import callbacks

    try:
        as_of = None if args.as_of is None else callbacks.parse_as_of(args.as_of)
    except callbacks.CallbackError as error:
        raise SystemExit(f"callshrink callbacks --as-of: {error}") from None
    db.activate()
    with db.connect(autocommit=True) as conn:
        try:
            callbacks.check_location(conn, args.location)
        except callbacks.CallbackError as error:
            raise SystemExit(f"callshrink callbacks --location: {error}") from None
        except psycopg.errors.UndefinedTable:
            raise SystemExit(
                "callshrink callbacks: the warehouse has no callback list yet: run "
                "`callshrink run` first"
            ) from None
        try:
            rows = callbacks.list_as_of(conn, as_of, args.location)
        except callbacks.CallbackError as error:
            raise SystemExit(f"callshrink callbacks: {error}") from None
        listed_as_of = as_of or callbacks.newest_call_at(conn)
    text = callbacks.csv_of(rows)
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8", newline="")
    print(
        f"{args.out}: {len(rows)} callers to call back at {args.location} as of {listed_as_of}",
        file=sys.stderr if str(args.out) == "-" else sys.stdout,
    )
    return 0


# --- app, dev, demo ---------------------------------------------------------------------------


LOCALHOST = "127.0.0.1"


def _streamlit_command(port: int, host: str = LOCALHOST) -> list[str]:
    from callshrink.dbt import tool

    return [
        tool("streamlit"),
        "run",
        str(settings.PROJECT_DIR / "app" / "streamlit_app.py"),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def _port(text: str) -> int:
    """A --port value: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {port}")
    return port


def _at_least_one(text: str) -> int:
    """A count of things at once (--load-threads): a whole number, 1 or more."""
    count = settings.whole_number_at_least_one(text)
    if count is None:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, got {text!r}")
    return count


def _require_free_port(command: str, port: int, host: str = LOCALHOST) -> None:
    """Stop before starting anything when the server of `callshrink COMMAND` could not listen
    on host:port, saying why: the port is taken, needs root, or host is not this machine's."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    not_here = f"callshrink {command} --host {host}: not an address of this machine"
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror:
            raise SystemExit(not_here) from None
        except OSError as error:
            if error.errno == errno.EADDRNOTAVAIL:
                raise SystemExit(not_here) from None
            if error.errno == errno.EADDRINUSE:
                reason = (
                    f"port {port} on {host} is in use (another server, or this one already "
                    "running?): pass --port N"
                )
            elif error.errno == errno.EACCES:
                reason = f"port {port} needs root (a port below 1024): pass --port N"
            else:
                reason = f"cannot listen on {host} port {port}: {error.strerror or error}"
            raise SystemExit(f"callshrink {command}: {reason}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may name any interface
        return False


def _address(host: str, port: int) -> str:
    """The URL to print for a server listening on host:port."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def _warn_if_exposed(host: str, port: int, what: str) -> None:
    """Listening beyond this machine is a deliberate choice: say what it exposes."""
    if not _is_loopback(host):
        print(
            f"WARNING: {what} listens on {host}:{port}, so anyone who can reach this machine "
            "can open it, and it has no login of its own. Put it behind one (README: Least "
            f"privilege), or leave out --host to listen on {LOCALHOST} only.",
            file=sys.stderr,
            flush=True,
        )


def _app_environment(host: str = LOCALHOST) -> dict[str, str]:
    """The app's environment: the read-only role's URL, and none of the owner's credentials
    (the app never needs them). Call-back staff's URL (the Call back page's numbers) as the
    user set it, else on the private server its staff role's, when the app listens on this
    machine only: served to the network, the page shows numbers only if the user says so."""
    try:
        app_url = db.app_database_url(start=False)
    except db.AppRoleUnavailable as error:
        raise SystemExit(f"callshrink: {error}") from None
    owner_variables = {settings.DATABASE_URL_VAR, *db.dbt_env()} - set(db.SESSION_ENV)
    env = {k: v for k, v in os.environ.items() if k not in owner_variables}
    env[settings.APP_DATABASE_URL_VAR] = app_url
    if not settings.configured_staff_database_url():
        if _is_loopback(host):
            staff_url = db.staff_database_url(start=False)
            if staff_url:
                env[settings.STAFF_DATABASE_URL_VAR] = staff_url
        elif not settings.configured_database_url():
            print(
                f"callshrink: the app listens beyond this machine, so the Call back page shows "
                f"no callers' numbers unless {settings.STAFF_DATABASE_URL_VAR} is set "
                "(docs/privacy.md).",
                file=sys.stderr,
                flush=True,
            )
    return env


def _require_app_url() -> None:
    """On a server of the user's the app's URL must be given: say so before doing anything."""
    if settings.configured_database_url() and not settings.configured_app_database_url():
        _app_environment()  # exits, naming what to set


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve(
    command: list[str], stop_private_on_exit: bool, env: dict[str, str] | None = None
) -> int:
    """Run a server in the foreground until Ctrl-C or SIGTERM; then stop it, and the private
    Postgres if asked. Both signals are handled explicitly: a shell that starts a background
    job hands it SIGINT ignored, and a service manager stops with SIGTERM."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    process = subprocess.Popen(command, cwd=settings.PROJECT_DIR, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stop_private_on_exit and not settings.configured_database_url():
            db.stop_private()
            print("private Postgres stopped", flush=True)


def cmd_app(args: argparse.Namespace) -> int:
    _require_free_port("app", args.port, args.host)
    _require_app_url()
    db.activate()
    env = _app_environment(args.host)
    _warn_if_exposed(args.host, args.port, "the app")
    print(f"callshrink app: {_address(args.host, args.port)}  (Ctrl-C to stop)", flush=True)
    return _serve(
        _streamlit_command(args.port, args.host), stop_private_on_exit=args.stop_db, env=env
    )


def cmd_dev(args: argparse.Namespace) -> int:
    from callshrink.dbt import ensure_manifest, tool

    _require_free_port("dev", args.port, args.host)  # before starting or compiling anything
    _use_folders(args.landing, args.reference)
    db.activate()
    ensure_manifest()
    command = [tool("dagster"), "dev", "-m", "orchestration.definitions"]
    command += ["-h", args.host, "-p", str(args.port)]
    _warn_if_exposed(args.host, args.port, "the Dagster UI (which can launch runs)")
    print(f"Dagster UI: {_address(args.host, args.port)}  (Ctrl-C to stop)", flush=True)
    return _serve(command, stop_private_on_exit=False)


def cmd_docs(args: argparse.Namespace) -> int:
    from callshrink.dbt import dbt, environment, stage_reference, tool

    if not args.generate_only:
        _require_free_port("docs", args.port, args.host)
    db.activate()
    stage_reference()
    site = settings.home_dir() / "docs"
    print(f"building the dbt docs site in {site} ...", flush=True)
    if dbt(["docs", "generate", "--target-path", str(site)], check=False).returncode:
        raise SystemExit("callshrink docs: dbt docs generate failed (its output is above)")
    if args.generate_only:
        print(f"open {site / 'index.html'} through a web server (`callshrink docs` serves it)")
        return 0
    _warn_if_exposed(args.host, args.port, "the dbt docs site")
    print(f"dbt docs: {_address(args.host, args.port)}  (Ctrl-C to stop)", flush=True)
    command = [tool("dbt"), "docs", "serve", "--target-path", str(site), "--no-browser"]
    command += ["--host", args.host, "--port", str(args.port)]
    return _serve(command, stop_private_on_exit=False, env=environment())


def cmd_demo(args: argparse.Namespace) -> int:
    from callshrink.generate import generate
    from callshrink.generate.drift import DriftError
    from callshrink.pipeline import run_pipeline

    _require_free_port("demo", args.port, args.host)
    _require_app_url()  # before generating and building anything
    out = settings.home_dir().joinpath(DEMO_DIR_NAME)
    if not (out / "landing").is_dir() or args.regenerate:
        print(f"generating demo data in {out} ...", flush=True)
        try:
            generate(
                out,
                locations=args.locations,
                days=args.days,
                seed=args.seed,
                drifts=not args.no_drift,
                progress=True,
            )
        except DriftError as exc:
            raise SystemExit(f"callshrink demo: {exc}; or leave them out: --no-drift") from None
        if not args.no_drift:
            print(
                "process drifts injected in the last week (answer_key/drifts.json): the "
                "Process drift page shows them",
                flush=True,
            )
    _use_folders(out / "landing", out / "reference")
    db.activate()
    # the demo is small: rebuilding its call models from scratch costs seconds and keeps a
    # database left by an older callshrink from failing on changed columns
    if not run_pipeline(quiet=True, full_refresh=True).success:
        return 1
    env = _app_environment(args.host)
    _warn_if_exposed(args.host, args.port, "the app")
    print(
        f"\ncallshrink app: {_address(args.host, args.port)}  (Ctrl-C stops the app"
        + (" and the private Postgres)" if not settings.configured_database_url() else ")"),
        flush=True,
    )
    return _serve(_streamlit_command(args.port, args.host), stop_private_on_exit=True, env=env)


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callshrink",
        formatter_class=_formatter,
        description=(
            "callshrink: inbound calls as inventory, missed calls as shrink in dollars.\n\n"
            "The warehouse is CALLSHRINK_DATABASE_URL when set; otherwise a private PostgreSQL\n"
            "server whose data lives in .callshrink/ in the checkout (CALLSHRINK_HOME)."
        ),
        epilog="Quick start: `callshrink demo`. Help on a command: `callshrink COMMAND --help`.",
    )
    parser.add_argument("--version", action="version", version=f"callshrink {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, handler: Callable[[argparse.Namespace], int], summary: str, description: str
    ) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name, help=summary, description=description, formatter_class=_formatter
        )
        sub.set_defaults(handler=handler)
        return sub

    db_parser = add(
        "db",
        cmd_db,
        "manage the private PostgreSQL server",
        "Start, stop or inspect the private PostgreSQL server used when "
        f"{settings.DATABASE_URL_VAR} is unset.",
    )
    db_commands = db_parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser(
        "start", help="start the private server (idempotent), with the app's role; print its URL"
    )
    db_commands.add_parser("stop", help="stop the private server")
    db_commands.add_parser("status", help="say which warehouse is used and if the server runs")
    url_parser = db_commands.add_parser(
        "url",
        help="print the warehouse URL, its password hidden",
        description="Print the warehouse URL with its password hidden (***), the owner's (the "
        "pipeline's and dbt's) or the app's read-only role's.",
        formatter_class=_formatter,
    )
    url_parser.add_argument(
        "--role",
        choices=("owner", "app", "staff"),
        default="owner",
        help="owner: the URL the pipeline and dbt use (default); app: the app's read-only role "
        f"({settings.APP_DATABASE_URL_VAR}, or the private server's {settings.DEFAULT_APP_ROLE}); "
        "staff: call-back staff's role, which reads callers' numbers "
        f"({settings.STAFF_DATABASE_URL_VAR}, or the private server's {settings.STAFF_ROLE})",
    )
    url_parser.add_argument(
        "--show-password", action="store_true", help="print the password instead of ***"
    )
    env_parser = db_commands.add_parser(
        "env",
        help='print shell exports for running dbt/mf by hand: eval "$(callshrink db env)"',
        description="Print shell exports for running dbt or mf by hand, for eval:\n"
        '  eval "$(callshrink db env)"\n'
        "They carry the owner's real password (CALLSHRINK_PGPASSWORD), as dbt needs it: eval\n"
        "them, do not paste them into logs or tickets. Creates the app's role if missing, so\n"
        "dbt can grant it the marts.",
        formatter_class=_formatter,
    )
    for sub in (url_parser, env_parser):
        sub.add_argument(
            "--no-start",
            dest="start",
            action="store_false",
            help="fail instead of starting the private server",
        )

    from callshrink.generate import cli as generate_cli

    generate_parser = add(
        "generate",
        generate_cli.run,
        "write a demo landing folder",
        "Generate demo exports in the exact vendor formats (docs/sources.md), the "
        "matching reference seeds, and an answer key beside them.",
    )
    generate_cli.configure_parser(generate_parser)

    folders_help = {
        "landing": "landing folder of exports (default: $CALLSHRINK_LANDING_DIR or "
        ".callshrink/landing)",
        "reference": "folder of reference CSVs for dbt seeds (default: the project's seeds/)",
    }
    run_parser = add(
        "run",
        cmd_run,
        "load, validate and build everything once",
        "Materialise every Dagster asset once: load new landing files into raw "
        "tables, run the Great Expectations checks, then dbt build (models and "
        "tests). Files loaded before are skipped, so running twice is safe. Staging "
        "and the revenue records build incrementally by record (the records changed "
        "since the last run), the call models from the earliest input changed since "
        "(less dbt var incremental_lookback_hours); --full-refresh rebuilds them from "
        "scratch.",
    )
    run_parser.add_argument("--landing", type=Path, help=folders_help["landing"])
    run_parser.add_argument("--reference", type=Path, help=folders_help["reference"])
    run_parser.add_argument(
        "-q", "--quiet", action="store_true", help="print the summary only, not Dagster's event log"
    )
    run_parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental staging, call and revenue models from scratch: after "
        "upgrading callshrink (a model's columns changed), or to apply a changed reference "
        "(a pbx_systems time zone, business hours, the location crosswalk) to records "
        "loaded before",
    )
    run_parser.add_argument(
        "--validate-all",
        action="store_true",
        help="run the Great Expectations checks on every current row of each raw table, not "
        "only the rows no passed check has seen (a changed suite re-checks every row anyway)",
    )
    run_parser.add_argument(
        "--reread-files",
        action="store_true",
        help="read and hash every landing file to tell whether it was loaded before; by "
        "default a file whose path, size and modification time are those it had when it "
        "was loaded is skipped unread (use this after restoring files whose times were "
        "kept but whose content changed)",
    )
    run_parser.add_argument(
        "--load-threads",
        type=_at_least_one,
        metavar="N",
        help="load N raw tables at once, each checked as soon as it is loaded (default: "
        "$CALLSHRINK_LOAD_THREADS or 2; 1 loads them one after the other)",
    )
    run_parser.add_argument(
        "--summary-json",
        type=Path,
        metavar="FILE",
        help="also write the run's summary as JSON (rows loaded and quarantined per table, "
        "checks, seconds of loading, checks and dbt build, peak memory of loading), for "
        "monitoring",
    )

    add(
        "doctor",
        cmd_doctor,
        "say whether each PBX and location is read right",
        "Print the data health of the warehouse (marts data_health and pbx_names): per PBX "
        "and location, the share of tracked calls stitched to a PBX call, calls without a "
        "location or a dialled number, outbound, internal and consult calls, quarantined "
        "lines; then every problem found, naming the PBX, numbers, queues or channels and "
        "what to change in the reference data (docs/pbx.md). Exits 1 when a problem was "
        "found, 0 when none.",
    )

    quarantine_parser = add(
        "quarantine",
        cmd_quarantine,
        "list quarantined raw lines, or move loaded ones there",
        "List the landing lines that could not be loaded, with file, line "
        "and reason (raw._quarantine); --move puts loaded lines a check blocks on there.",
    )
    quarantine_parser.add_argument("--table", help="only this raw table, e.g. asterisk_cdr")
    quarantine_parser.add_argument(
        "--move",
        nargs="+",
        metavar="FILE[:LINE]",
        help="move these loaded lines (FILE alone: all of its lines) into the quarantine, "
        "when a validation check blocks on them and no corrected delivery will come; FILE as "
        "the check names it, e.g. pos/square/payments/2026-02.jsonl:17",
    )
    quarantine_parser.add_argument("--reason", help="why, kept with each moved line (--move)")
    quarantine_parser.add_argument(
        "--limit",
        type=generate_cli.positive,
        default=50,
        help="at most this many lines (default 50)",
    )

    from callshrink import finance

    export_parser = add(
        "export",
        cmd_export,
        "export finance's figures as CSV",
        "Export figures from the warehouse as CSV files (run `callshrink run` first).",
    )
    export_kinds = export_parser.add_subparsers(dest="export_kind", required=True, metavar="WHAT")
    finance_parser = export_kinds.add_parser(
        "finance",
        help="a month's revenue reconciliation, per day or per record",
        description="Write a month's revenue reconciliation as CSV, amounts as exact decimals.\n"
        "  daily    per location, local day and record type (payment, refund, deal): source,\n"
        "           attributed and unattributed dollars, then a total row per record type\n"
        "  records  every revenue record of the month with its attribution (rule, call_id,\n"
        "           call location) and its source record id, file and line\n"
        "  left_out the month's payment, refund and deal lines the loader kept in quarantine\n"
        "           (id, amount, currency, file, line, reason): money the tie-out cannot see;\n"
        "           the daily level counts them in a left_out row per record type\n"
        "Refunds are positive amounts (net revenue = payments - refunds + deals); a deal no\n"
        "call placed has an empty location_id. Closed months that changed later are listed\n"
        "in marts.revenue_restatements.",
        formatter_class=_formatter,
    )
    finance_parser.add_argument(
        "--month", required=True, help="the month, YYYY-MM (location-local calendar months)"
    )
    finance_parser.add_argument(
        "--out", required=True, type=Path, help="the CSV file to write (replaced if it exists)"
    )
    finance_parser.add_argument(
        "--level",
        choices=finance.LEVELS,
        default="daily",
        help="daily tie-out (default), every revenue record, or the records left out",
    )

    callbacks_parser = add(
        "callbacks",
        cmd_callbacks,
        "write a location's callback work list as CSV",
        "Write the callback work list of a location as CSV: one row per caller whose missed\n"
        "call (voicemail, abandoned or missed in open hours) started within the recovery\n"
        "window (dbt var recovery_window_hours, 24 h) before --as-of and whom no connected\n"
        "call (an answered retry or a callback they picked up) has reached by then, the\n"
        "highest expected value first: the call's conversion-cell value x the chance a\n"
        "callback still recovers it after the hours elapsed (marts.callback_recovery_curve).\n"
        "Columns: rank, caller_phone_e164 (in clear: handle the file as personal data),\n"
        "location_id, latest_call_at_local, latest_call_at (UTC), wait_seconds, attempts,\n"
        "outcome, marketing_source, hours_since_call, recovery_chance, value_usd, cell_id,\n"
        "expected_value_usd, call_ids, listed_as_of. The list is restricted.callback_list()\n"
        "in the warehouse (docs/metrics.md, Callback work list), rebuilt by every\n"
        "`callshrink run`; this command runs as the warehouse's owner.",
    )
    callbacks_parser.add_argument(
        "--location", required=True, help="the location id (e.g. loc_01; see marts.locations)"
    )
    callbacks_parser.add_argument(
        "--as-of",
        metavar="TIME",
        help="the list as of this time, ISO 8601: 2026-03-04T14:30 (no offset: UTC), "
        "2026-03-04T09:30-05:00 or 2026-03-04T14:30Z. Default: the newest call in the warehouse",
    )
    callbacks_parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="the CSV file to write (replaced if it exists); - writes to standard output",
    )

    host_help = (
        f"address to listen on (default {LOCALHOST}: this machine only). --host 0.0.0.0 "
        "serves every network: the {} has no login of its own, so put it behind one first "
        "(README: Least privilege)"
    )
    app_parser = add(
        "app",
        cmd_app,
        "serve the Streamlit app",
        "Serve the executive and finance app on the warehouse. The app reads the marts as a "
        f"read-only role ({settings.APP_DATABASE_URL_VAR}, or the private server's "
        f"{settings.DEFAULT_APP_ROLE}), never as the warehouse's owner.",
    )
    app_parser.add_argument("--host", default=LOCALHOST, help=host_help.format("app"))
    app_parser.add_argument("--port", type=_port, default=8501, help="port (default 8501)")
    app_parser.add_argument(
        "--stop-db", action="store_true", help="stop the private Postgres when the app stops"
    )

    dev_parser = add(
        "dev",
        cmd_dev,
        "serve the Dagster UI (dagster dev)",
        "Start `dagster dev` on this project with the warehouse configured: the "
        "asset graph, checks, schedule and landing-folder sensor.",
    )
    dev_parser.add_argument("--host", default=LOCALHOST, help=host_help.format("Dagster UI"))
    dev_parser.add_argument("--port", type=_port, default=3000, help="port (default 3000)")
    dev_parser.add_argument("--landing", type=Path, help=folders_help["landing"])
    dev_parser.add_argument("--reference", type=Path, help=folders_help["reference"])

    docs_parser = add(
        "docs",
        cmd_docs,
        "build and serve the dbt docs site",
        "Build the dbt docs site (every model, column, test, metric and the lineage graph, "
        "with the warehouse's catalog) in .callshrink/docs and serve it.",
    )
    docs_parser.add_argument("--host", default=LOCALHOST, help=host_help.format("docs site"))
    docs_parser.add_argument("--port", type=_port, default=8580, help="port (default 8580)")
    docs_parser.add_argument(
        "--generate-only", action="store_true", help="build the site, do not serve it"
    )

    demo_parser = add(
        "demo",
        cmd_demo,
        "generate demo data, run everything, serve the app",
        "Generate a demo data set in .callshrink/demo (once), run the whole "
        "pipeline on it and serve the app. Ctrl-C stops the app and the private "
        "Postgres.",
    )
    demo_preset = PRESETS[DEFAULT_PRESET]
    demo_parser.add_argument(
        "--locations",
        type=generate_cli.positive,
        default=demo_preset.locations,
        help=f"locations (default {demo_preset.locations})",
    )
    demo_parser.add_argument(
        "--days",
        type=generate_cli.positive,
        default=demo_preset.days,
        help=f"days (default {demo_preset.days}: the control charts' 28-day baseline and two "
        "weeks judged)",
    )
    demo_parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo_parser.add_argument(
        "--no-drift",
        action="store_true",
        help="no process drifts (by default a staffing drop at loc_01, longer ring times at "
        "loc_02 and callbacks stopped at loc_04 start in the last week; callshrink generate "
        "--drift)",
    )
    demo_parser.add_argument("--host", default=LOCALHOST, help=host_help.format("app"))
    demo_parser.add_argument("--port", type=_port, default=8501, help="app port (default 8501)")
    demo_parser.add_argument(
        "--regenerate", action="store_true", help="write the demo data again even if it exists"
    )
    return parser


# The tools callshrink runs send usage statistics to their makers unless told not to: a
# warehouse of customers' calls sends nothing anywhere by default. A user's own setting wins.
NO_USAGE_STATISTICS = {
    "DAGSTER_DISABLE_TELEMETRY": "yes",
    "GX_ANALYTICS_ENABLED": "False",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DO_NOT_TRACK": "1",
}


def main(argv: list[str] | None = None) -> int:
    for variable, value in NO_USAGE_STATISTICS.items():
        os.environ.setdefault(variable, value)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
