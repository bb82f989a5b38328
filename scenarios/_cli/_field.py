"""The field trials' command line: ``serve`` (``cloud``, ``add-merchant``, ``token``),
``pos``, ``phone``, and ``run``'s ``--transport tcp`` options.

Each command reads its arguments into the typed options of ``scenarios/_field/``
(``CloudOptions``, ``ClientOptions`` with ``PosOptions`` or ``PhoneOptions``,
``TcpRunOptions``) and runs it there. The ``--scenario``/``--set``/``--seed`` checks of
every field process are one function, :func:`_field_run`, which builds their
:class:`~scenarios.RunSpec`. A bad argument is one line on stderr and exit status 2, from
``main``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from actors import TcpLimits
from protocol import (
    CloudConfig,
    MismatchPolicy,
)
from protocol.lowlevel import (
    is_phone_id,
)
from scenarios._field._clients import ClientOptions, PhoneOptions, PosOptions, run_phone, run_pos
from scenarios._field._common import (
    DEFAULT_TRACE_MAX_BYTES,
    MIN_TRACE_MAX_BYTES,
    configure_logging,
    parse_endpoint,
)
from scenarios._field._serve import (
    DEFAULT_BATCH,
    CloudOptions,
    add_merchant_key,
    issue_device_token,
    serve_cloud,
)
from scenarios._field._tcprun import (
    TARGET_WALL_SECONDS,
    TcpRunOptions,
    format_tcp_result,
    refuse_faults_on_tcp,
    run_tcp,
    tcp_result_json,
    warn_faults_not_applied,
)
from scenarios._model._durations import format_duration
from scenarios._model._errors import ScenarioError
from scenarios._model._runspec import RunSpec
from scenarios._model._scenario import CloudSettings
from scenarios._sim._runner import cloud_config

from ._types import positive_duration, positive_number

__all__ = [
    "add_client_parsers",
    "add_serve_parser",
    "add_tcp_run_options",
    "phone_command",
    "pos_command",
    "refuse_tcp_options",
    "run_tcp_command",
    "serve_command",
]

_DEFAULT_PUSH_TIMEOUT = format_duration(CloudConfig().push_timeout)
_PHONE_PROCESSES = TcpRunOptions().phone_processes
_PER_PEER = TcpLimits().max_connections_per_peer


# ------------------------------------------------------------------ every field process


def add_time_options(parser: argparse.ArgumentParser) -> None:
    """``--verbose``, and the hidden options ``run --transport tcp`` gives every process."""
    parser.add_argument(
        "--verbose", action="store_true", help="log every connection and refusal on stderr"
    )
    parser.add_argument("--epoch", type=_finite_number, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--speed", type=positive_number, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--status-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--wait-for-go", action="store_true", help=argparse.SUPPRESS)


def _finite_number(text: str) -> float:
    """A float that is a number (a NaN epoch would make every time NaN)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _field_run(
    source: str | None, sets: Sequence[str], seed: int | None, process: str
) -> RunSpec | None:
    """A field process's ``--scenario``, ``--set`` and ``--seed`` as one :class:`RunSpec`,
    or ``None`` without a scenario (then a ``--set`` or ``--seed`` is refused). One warning
    line on stderr if the scenario configures faults, which a field process leaves out."""
    if source is None:
        if sets:
            raise ScenarioError("--set changes a --scenario: give the scenario too")
        if seed is not None:
            raise ScenarioError("--seed goes with --scenario")
        return None
    run = RunSpec.load(source, sets, seed)
    warn_faults_not_applied(run.scenario, process)
    return run


# ------------------------------------------------------------------ serve


def add_serve_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``serve`` command and its subcommands."""
    serve = commands.add_parser(
        "serve",
        help="run the cloud as a TCP/TLS server (field trials), manage its keys",
        description="Run the cloud as a real server (serve cloud), add a merchant's key "
        "(serve add-merchant), or print a phone's device token (serve token).",
    )
    parts = serve.add_subparsers(dest="serve_command", required=True, metavar="SUBCOMMAND")
    cloud = parts.add_parser(
        "cloud",
        help="serve the cloud on HOST:PORT with a durable store",
        description="Serve the cloud: authenticate POSes (merchant keys) and phones (device "
        "tokens), store every upload durably in --db before acknowledging it, push on time "
        "after restarts. Ctrl-C stops it cleanly.",
    )
    cloud.add_argument("--listen", required=True, metavar="HOST:PORT", help="where to listen")
    cloud.add_argument("--db", required=True, type=Path, metavar="FILE", help="the SQLite store")
    cloud.add_argument("--tls-cert", type=Path, metavar="F", help="TLS certificate chain (PEM)")
    cloud.add_argument("--tls-key", type=Path, metavar="F", help="TLS private key (PEM)")
    cloud.add_argument(
        "--merchant-keys",
        type=Path,
        metavar="FILE",
        help="the merchants' hashed keys (assocsim serve add-merchant writes it)",
    )
    _trace_arguments(cloud)
    cloud.add_argument(
        "--secret", type=Path, metavar="FILE", help="device-token secret (default: DB.secret)"
    )
    cloud.add_argument(
        "--scenario",
        metavar="NAME_OR_PATH",
        help="take the cloud's settings (push timeout, mismatch policy, retries) from it",
    )
    cloud.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a knob"
    )
    cloud.add_argument(
        "--push-timeout",
        type=positive_duration,
        metavar="D",
        help=f"step 603's wait (default {_DEFAULT_PUSH_TIMEOUT})",
    )
    cloud.add_argument(
        "--mismatch-policy", choices=[str(p) for p in MismatchPolicy], help="step 505's policy"
    )
    cloud.add_argument(
        "--recommender",
        choices=("rules", "engine"),
        help="the pairing: the catalog's rules, or the engine that learns from every upload "
        "(relearned from the store at start; default: the scenario's, else rules)",
    )
    cloud.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        metavar="N",
        help=f"machine steps per hop to the store thread (default {DEFAULT_BATCH})",
    )
    cloud.add_argument(
        "--max-connections-per-peer",
        type=int,
        default=_PER_PEER,
        metavar="N",
        help="connections one network address may hold open; more are refused as "
        f"'overloaded' (default {_PER_PEER}, a quarter of the server's slots)",
    )
    add_time_options(cloud)
    add = parts.add_parser(
        "add-merchant",
        help="add a merchant's key to a keys file (prints a new key once)",
        description="Add MERCHANT to the keys file (created if missing), keeping only a salted "
        "hash of its key. Without --key a random key is made and printed once.",
    )
    add.add_argument(
        "--merchant-keys",
        required=True,
        type=Path,
        metavar="FILE",
        help="the keys file serve cloud --merchant-keys reads (created if missing)",
    )
    add.add_argument(
        "--merchant", required=True, metavar="ID", help="the merchant's id, as pos --merchant"
    )
    add.add_argument(
        "--key",
        metavar="KEY",
        help="the key to use (default: a new random one); one that begins with '-' is given "
        "as --key=KEY",
    )
    add.add_argument(
        "--key-out",
        type=Path,
        metavar="FILE",
        help="write the key to FILE (a new file, mode 0600: pos --key-file reads it) "
        "instead of printing it",
    )
    token = parts.add_parser(
        "token",
        help="print a phone's device token (after verifying the phone out of band)",
        description="Print the device token of phone ID, from the cloud's secret (DB.secret).",
    )
    token.add_argument("--db", type=Path, metavar="FILE", help="the cloud's store (finds .secret)")
    token.add_argument("--secret", type=Path, metavar="FILE", help="the secret file itself")
    token.add_argument(
        "--id", required=True, metavar="PHONE", help="the phone's id (E.164, e.g. +8613800000001)"
    )


def serve_command(args: argparse.Namespace, out: IO[str]) -> int:
    """``assocsim serve cloud | add-merchant | token``."""
    if args.serve_command == "add-merchant":
        return _add_merchant(args, out)
    if args.serve_command == "token":
        return _token(args, out)
    options = _cloud_options(args)
    configure_logging(args.verbose)
    return serve_cloud(options)


def _cloud_options(args: argparse.Namespace) -> CloudOptions:
    host, port = parse_endpoint(args.listen, what="--listen")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ScenarioError("--tls-cert and --tls-key go together: give both, or neither")
    run = _field_run(args.scenario, args.set, None, "serve cloud")  # it takes no --seed
    scenario = run.scenario if run is not None else None
    config = CloudConfig() if scenario is None else cloud_config(scenario)
    if args.push_timeout is not None:
        config = attrs.evolve(config, push_timeout=args.push_timeout)
    if args.mismatch_policy is not None:
        config = attrs.evolve(config, mismatch_policy=MismatchPolicy(args.mismatch_policy))
    settings = scenario.cloud if scenario is not None else CloudSettings()
    db: Path = args.db
    if db.is_dir():
        raise ScenarioError(f"--db {db} is a directory: give the path of the store's file")
    if not db.parent.is_dir():
        raise ScenarioError(f"--db {db}: no directory {db.parent}")
    if args.max_connections_per_peer < 1:
        raise ScenarioError(
            f"--max-connections-per-peer must be at least 1, got {args.max_connections_per_peer}"
        )
    trace_max_bytes = _trace_max_bytes(args.trace_max_bytes, args.trace)
    return CloudOptions(
        host=host,
        port=port,
        db=db,
        secret=args.secret if args.secret is not None else db.with_name(db.name + ".secret"),
        holders=db.with_name(db.name + ".holders"),
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        merchant_keys=args.merchant_keys,
        trace=args.trace,
        config=config,
        recommender=args.recommender if args.recommender is not None else settings.recommender,
        run=run,
        batch=args.batch,
        epoch=args.epoch,
        speed=args.speed,
        status_file=args.status_file,
        wait_for_go=args.wait_for_go,
        max_connections_per_peer=args.max_connections_per_peer,
        trace_max_bytes=trace_max_bytes,
    )


def _trace_max_bytes(given: int | None, trace: Path | None) -> int | None:
    """The trace's bound from ``--trace-max-bytes`` (None: no bound)."""
    if given is None:
        return DEFAULT_TRACE_MAX_BYTES
    if trace is None:
        raise ScenarioError("--trace-max-bytes bounds the trace: give --trace FILE too")
    if given == 0:
        return None
    if given < MIN_TRACE_MAX_BYTES:
        raise ScenarioError(
            f"--trace-max-bytes must be 0 (no bound) or at least {MIN_TRACE_MAX_BYTES}, got {given}"
        )
    return given


def _add_merchant(args: argparse.Namespace, out: IO[str]) -> int:
    path: Path = args.merchant_keys
    key_out: Path | None = args.key_out
    key = add_merchant_key(path, args.merchant, args.key, key_out=key_out)
    if key_out is not None:
        sys.stderr.write(
            f"merchant {args.merchant}: key stored (hashed) in {path}, the key in {key_out} "
            "(mode 0600)\n"
        )
        return 0
    if args.key is None:
        out.write(f"{key}\n")  # shown once: the file keeps only its hash
    sys.stderr.write(f"merchant {args.merchant}: key stored (hashed) in {path}\n")
    return 0


def _token(args: argparse.Namespace, out: IO[str]) -> int:
    if not is_phone_id(args.id):
        raise ScenarioError(f"--id {args.id!r}: expected an E.164 phone id, e.g. +8613800000001")
    if (args.db is None) == (args.secret is None):
        raise ScenarioError("give the cloud's --db FILE (its secret is FILE.secret) or --secret")
    secret: Path = args.secret if args.secret is not None else Path(f"{args.db}.secret")
    out.write(issue_device_token(secret, args.id) + "\n")
    return 0


# ------------------------------------------------------------------ pos and phone


def add_client_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``pos`` and ``phone`` commands."""
    pos = commands.add_parser(
        "pos",
        help="a shop's checkout: upload purchases to a cloud server",
        description="Connect to the cloud as POS(es) of MERCHANT (authenticated by its key), "
        "upload purchases from a JSON-lines file or a scenario, print each acknowledgement "
        "as a JSON line, and exit once all are acknowledged (1 if one was refused).",
    )
    _cloud_arguments(pos)
    pos.add_argument("--merchant", required=True, metavar="ID", help="the merchant's id")
    pos.add_argument(
        "--key",
        metavar="KEY",
        help="the merchant's secret key (one that begins with '-' is given as --key=KEY; "
        "serve add-merchant no longer makes such keys)",
    )
    pos.add_argument("--key-file", type=Path, metavar="FILE", help="read the key from FILE")
    pos.add_argument(
        "--pos",
        action="append",
        metavar="ID",
        help="the till (default pos-1; with --scenario: every till of the merchant)",
    )
    pos.add_argument(
        "--purchases", type=Path, metavar="FILE.jsonl", help="purchases, one JSON object a line"
    )
    _scenario_arguments(pos)
    _state_argument(pos, "till")
    pos.add_argument(
        "--notice-wait",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="after the last upload, wait this long for phones to acknowledge their "
        "receipt notices (default 10)",
    )
    phone = commands.add_parser(
        "phone",
        help="a phone: subscribe, ask, print what the cloud sends",
        description="Connect to the cloud as phone ID (with its device token, or enrolling "
        "without one), subscribe, ask about --ask receipts and those a POS hands it, "
        "acknowledge pushes, and print everything received as JSON lines. With --ask it "
        "exits once each is answered (1 if one was refused); otherwise it runs until Ctrl-C.",
    )
    _cloud_arguments(phone)
    phone.add_argument(
        "--id", required=True, action="append", metavar="PHONE", help="the phone's id (E.164)"
    )
    phone.add_argument(
        "--token-file", type=Path, metavar="F", help="keep the device token here (JSON)"
    )
    phone.add_argument(
        "--ask",
        nargs="+",
        default=[],
        metavar="MERCHANT/RECEIPT",
        help="receipts to ask about, each as its merchant and receipt id (shop-01/R0000001)",
    )
    phone.add_argument(
        "--stay", action="store_true", help="with --ask: keep listening for pushes afterwards"
    )
    _scenario_arguments(phone)
    _state_argument(phone, "phone")


def _state_argument(parser: argparse.ArgumentParser, party: str) -> None:
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help=f"keep each {party}'s state in DIR, written before each step's messages leave; "
        "started again on it (after a kill -9), carry on where it stopped",
    )


def _cloud_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cloud", required=True, metavar="HOST:PORT", help="the cloud server")
    parser.add_argument("--tls", action="store_true", help="TLS, trusting the system's CAs")
    parser.add_argument("--tls-ca", type=Path, metavar="F", help="TLS, trusting this CA (PEM)")
    _trace_arguments(parser)
    add_time_options(parser)


def _trace_arguments(parser: argparse.ArgumentParser) -> None:
    """``--trace`` and its bound: every field process's trace is bounded (issue 14)."""
    parser.add_argument("--trace", type=Path, metavar="FILE", help="write a JSON-lines trace")
    parser.add_argument(
        "--trace-max-bytes",
        type=int,
        metavar="N",
        help="with --trace: stop the trace at N bytes with a final gap record, which check "
        f"and find report as incomplete (default {DEFAULT_TRACE_MAX_BYTES}, 1 GiB; 0: no "
        f"bound; at least {MIN_TRACE_MAX_BYTES})",
    )


def _scenario_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scenario", metavar="NAME_OR_PATH", help="act out a scenario's part")
    parser.add_argument("--seed", type=int, metavar="N", help="the scenario's seed")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a knob"
    )


def _client_options(args: argparse.Namespace) -> ClientOptions:
    configure_logging(args.verbose)
    host, port = parse_endpoint(args.cloud, what="--cloud")
    if port == 0:
        raise ScenarioError("--cloud: port 0 is not a server's port")
    return ClientOptions(
        host=host,
        port=port,
        tls=args.tls or args.tls_ca is not None,
        tls_ca=args.tls_ca,
        trace=args.trace,
        run=_field_run(args.scenario, args.set, args.seed, args.command),
        epoch=args.epoch,
        speed=args.speed,
        status_file=args.status_file,
        wait_for_go=args.wait_for_go,
        trace_max_bytes=_trace_max_bytes(args.trace_max_bytes, args.trace),
    )


def pos_command(args: argparse.Namespace, out: IO[str]) -> int:
    """``assocsim pos``: upload purchases; 0 once all are acknowledged, 1 if one was refused."""
    options = PosOptions(
        _client_options(args),
        merchant=args.merchant,
        pos_ids=tuple(args.pos or ()),
        purchases=args.purchases,
        key=args.key,
        key_file=args.key_file,
        notice_wait=args.notice_wait,
        state_dir=args.state_dir,
    )
    return run_pos(options, out)


def phone_command(args: argparse.Namespace, out: IO[str]) -> int:
    """``assocsim phone``: subscribe, ask, print deliveries; see ``_field/_clients.py``."""
    options = PhoneOptions(
        _client_options(args),
        ids=tuple(args.id),
        token_file=args.token_file,
        asks=tuple(args.ask),
        stay=args.stay,
        state_dir=args.state_dir,
    )
    return run_phone(options, out)


# ------------------------------------------------------------------ run --transport tcp


def add_tcp_run_options(run: argparse.ArgumentParser) -> None:
    """``run``'s options for ``--transport tcp``."""
    run.add_argument(
        "--transport",
        choices=("memory", "tcp"),
        default="memory",
        help="memory: simulate in virtual time (default); tcp: act the scenario out with "
        "real processes (cloud server, shops, phones) on 127.0.0.1",
    )
    run.add_argument(
        "--speed",
        type=positive_number,
        metavar="X",
        help="with --transport tcp: run the day X times faster than real time "
        f"(default: about {TARGET_WALL_SECONDS:.0f} s of wall time)",
    )
    run.add_argument(
        "--phone-processes",
        type=int,
        default=_PHONE_PROCESSES,
        metavar="N",
        help="with --transport tcp: processes the phones are spread over "
        f"(default {_PHONE_PROCESSES})",
    )
    run.add_argument("--tls-cert", type=Path, metavar="F", help="with --transport tcp: use TLS")
    run.add_argument("--tls-key", type=Path, metavar="F", help="the --tls-cert's private key")
    run.add_argument("--tls-ca", type=Path, metavar="F", help="the CA the clients trust")
    run.add_argument(
        "--keep", type=Path, metavar="DIR", help="with --transport tcp: keep traces and logs"
    )


def refuse_tcp_options(args: argparse.Namespace) -> None:
    """A memory run given an option of --transport tcp: say so (one line, exit 2)."""
    given = [
        option
        for option, value in (
            ("--speed", args.speed),
            (
                "--phone-processes",
                None if args.phone_processes == _PHONE_PROCESSES else args.phone_processes,
            ),
            ("--tls-cert", args.tls_cert),
            ("--tls-key", args.tls_key),
            ("--tls-ca", args.tls_ca),
            ("--keep", args.keep),
        )
        if value is not None
    ]
    if given:
        raise ScenarioError(f"{', '.join(given)}: only with --transport tcp")


def run_tcp_command(args: argparse.Namespace, run: RunSpec, out: IO[str]) -> int:
    """``assocsim run NAME --transport tcp``: the report, and how it compares."""
    if args.check_determinism or args.plots is not None or getattr(args, "cloud", None):
        raise ScenarioError(
            "--check-determinism, --plots and --cloud are for --transport memory runs"
        )
    if args.phone_processes < 1:
        raise ScenarioError("--phone-processes must be at least 1")
    if (args.tls_cert is None) != (args.tls_key is None):
        raise ScenarioError("--tls-cert and --tls-key go together: give both, or neither")
    if args.tls_ca is not None and args.tls_cert is None:
        raise ScenarioError("--tls-ca goes with --tls-cert and --tls-key")
    refuse_faults_on_tcp(run.scenario)
    options = TcpRunOptions(
        speed=args.speed,
        phone_processes=args.phone_processes,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_ca=args.tls_ca,
        trace=args.trace,
        keep=args.keep,
    )
    result = run_tcp(run, options)
    if args.json:
        out.write(json.dumps(tcp_result_json(result)) + "\n")
    else:
        out.write(format_tcp_result(result) + "\n")
    return result.check_status
