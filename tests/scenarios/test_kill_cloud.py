"""kill -9 ``serve cloud`` at N random moments while a POS uploads; nothing acknowledged is lost.

Issue 12, *Field*: the README promises that the cloud can be killed at any moment. Over
real processes on 127.0.0.1, this runs

* one ``assocsim serve cloud`` on a free port outside the kernel's ephemeral range
  (``tests.ports.restart_port``: no other socket can take it while the cloud is
  down), with its ``--db`` in a temporary directory
  and a push timeout of 2 s, so that pushes fall due all through the run;
* one ``assocsim phone`` process with the four phones the POS names (subscribed at once;
  each asks only about a receipt it is handed) and a buyer phone;
* one ``assocsim pos`` uploading a steady stream of purchases (150 a second), each naming
  one of the four phones and handed to: nobody online (70 %: the named phone gets the
  timeout push), the named phone itself (15 %: it asks, a response), or the buyer phone
  (15 %: a mismatch, the named phone gets the dual-send, or the timeout push if the
  buyer asks too late).

Each round kills the cloud with SIGKILL at a random moment of its work, counted in uploads
acknowledged since its start (1 to 30, seeded): just after a start the cloud catches up on
what queued while it was down, re-armed pushes fall due and the POS re-sends. It starts
the cloud again on the same ``--db`` and port 0.5-1.5 s later; the clients reconnect by
themselves. Then everything is let finish (the POS exits once every upload is
acknowledged; the run waits until every acknowledged receipt is shown at its named phone,
until the store has had no push to send or re-send for a few seconds, or until nothing has
moved for 30 s), the processes are stopped, and:

* every upload the POS saw acknowledged is bound in the store (to the phone it named);
* each was shown at the named phone (the phone trace's ``shown`` notes), and none twice.

A loss needs a kill between two store writes of one cloud step, so a round finds one only
by chance. At commit ca5ec8d (every write committed on its own), 5 rounds lost pushes in 22
of 24 seeds (41 in 120 kills; seed 12: 2 of 1,050), 50 rounds 20 of 7,800; since each step
is one transaction (f48b940), none. The simulator's crashes inside a step reach every write
(``tests/scenarios/test_crash_inside_step.py``).

``run_kill_rounds`` is the harness; ``bench/kill_cloud.py`` runs it for 50 rounds.
``tests/scenarios/test_kill_cloud_can_fail.py`` runs it against a planted cloud that
acknowledges before committing (``KillPlan.cloud_module``): two kills lose uploads there. The
test's number of rounds is ``ASSOCSIM_KILL_ROUNDS`` (default 5; 50 under
``HYPOTHESIS_PROFILE=long``), its seed ``ASSOCSIM_KILL_SEED``; ``pytest -n 0 -s`` prints the
counts.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from actors import SqliteStore
from protocol import ReceiptKey
from tests.ports import restart_port

ROOT = Path(__file__).resolve().parents[2]
NAMED = tuple(f"+86138000001{n:02d}" for n in range(4))  # the phones the POS names
BUYER = "+8613800000190"  # handed receipts bound to other numbers: mismatches
OFFLINE = "+8613800000199"  # handed receipts, never online: nobody asks
MERCHANT = "shop-01"
WAIT = 60.0  # seconds any one expected thing may take on a loaded 2-core machine
QUIET = 3.0  # seconds without any push to send or re-send before the run is judged
STALLED = 30.0  # seconds without progress (pushes re-send every 4 s at most) before it is
POLL = 0.05

CLOUD_SETTINGS = """\
description = "the cloud of the kill -9 field trial"

[retry]                 # a push the phone missed (it was reconnecting) is re-sent soon
first_delay = "1s"
factor = 1.5
max_delay = "4s"
max_attempts = 200
"""

ROUNDS_ENV = "ASSOCSIM_KILL_ROUNDS"
SEED_ENV = "ASSOCSIM_KILL_SEED"


@attrs.frozen
class KillPlan:
    """What a run does. The POS uploads ``rate`` purchases a second for ``stream`` seconds.
    Each of the ``rounds`` waits until the cloud has acknowledged ``w * rate`` more uploads,
    ``w`` drawn from ``kill_after`` (a moment counted in the cloud's progress: right after
    a restart it catches up on what queued while it was down), kills it, and restarts it
    after a time drawn from ``down``; once the POS is done, it waits ``w`` seconds instead.
    ``seed`` draws them, and the purchases' mix."""

    rounds: int = 5
    seed: int = 12
    rate: float = 150.0
    stream: float | None = None  # seconds of uploads; default: enough for the rounds
    push_timeout: float = 2.0
    kill_after: tuple[float, float] = (0.0, 0.2)
    down: tuple[float, float] = (0.5, 1.5)
    asked: float = 0.15  # the share of purchases handed to the named phone (it asks)
    mismatched: float = 0.15  # the share handed to the buyer phone (a dual-send)
    # The module the cloud runs as (python -m MODULE serve cloud ...): a planted cloud's
    # to show that the trial can fail (tests/scenarios/test_kill_cloud_can_fail.py).
    cloud_module: str = "scenarios"
    # Seconds without progress before the run is judged (see :meth:`_KillRun.settle`).
    stalled: float = STALLED

    @property
    def stream_seconds(self) -> float:
        if self.stream is not None:
            return self.stream
        # A round lets at most kill_after[1] seconds' worth of uploads through, then the
        # cloud is down for a second or more: the uploads queue up and outlast the rounds.
        return 2.0 + self.rounds * 1.0


@attrs.frozen
class KillCounts:
    """What a run found. ``lost``: acknowledged uploads never shown at the named phone."""

    rounds: int
    seed: int
    purchases: int
    acknowledged: int
    bound: int
    shown: int
    shown_by: dict[str, int]  # shown at the named phone, by how: timeout, dual-send, response
    lost: tuple[str, ...]
    unbound: tuple[str, ...]  # acknowledged, not bound (to the phone the POS named)
    shown_twice: tuple[str, ...]  # "receipt at phone", shown more than once
    delivered_not_shown: tuple[str, ...]  # lost, though the store records the delivery
    restarts: tuple[float, ...]  # seconds from each restart to its listening line
    wall: float

    @property
    def ok(self) -> bool:
        return not (self.lost or self.unbound or self.shown_twice)

    def details(self, limit: int | None = 20) -> str:
        """The receipts behind the failures, up to ``limit`` of each kind."""
        kinds = (
            ("lost", self.lost),
            ("of them recorded as delivered", self.delivered_not_shown),
            ("not bound", self.unbound),
            ("shown twice", self.shown_twice),
        )
        return "\n".join(f"{kind}: {' '.join(found[:limit])}" for kind, found in kinds if found)

    def format(self) -> str:
        by = ", ".join(f"{how} {n}" for how, n in sorted(self.shown_by.items()))
        slowest = max(self.restarts, default=0.0)
        return "\n".join(
            [
                f"kill -9 rounds              {self.rounds} (seed {self.seed}; "
                f"restarts took up to {slowest:.1f} s)",
                f"purchases uploaded          {self.purchases}",
                f"uploads acknowledged        {self.acknowledged}",
                f"bound in the store          {self.bound}",
                f"shown at the named phone    {self.shown} ({by})",
                f"lost                        {len(self.lost)}"
                + (
                    f" ({len(self.delivered_not_shown)} recorded as delivered)"
                    if self.delivered_not_shown
                    else ""
                ),
                f"shown twice                 {len(self.shown_twice)}",
                f"(ran in {self.wall:.1f} s of wall time)",
            ]
        )


# --------------------------------------------------------------------------- processes


class _Process:
    """One ``python -m scenarios ...`` process, its stdout and stderr in files."""

    def __init__(
        self, name: str, args: list[str], directory: Path, module: str = "scenarios"
    ) -> None:
        self.name = name
        self.out_path = directory / f"{name}.out"
        self.err_path = directory / f"{name}.err"
        # The repository on the path: a module of tests/ imports from the run's directory.
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=directory,
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )

    @property
    def out(self) -> str:
        return self.out_path.read_text()

    @property
    def err(self) -> str:
        return self.err_path.read_text()

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: signal.Signals) -> int:
        """Send ``sig`` and wait for the exit status."""
        if self.running:
            self.popen.send_signal(sig)
        try:
            return self.popen.wait(WAIT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not stop on {sig.name}:\n{self.err}") from None

    def kill(self) -> None:
        if self.running:
            self.popen.kill()
            self.popen.wait(WAIT)


class _Trial:
    """The processes of one run; :meth:`close` kills whichever still run."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[_Process] = []
        self.watched: list[_Process] = []  # must not exit while the run waits
        self.may_finish: list[_Process] = []  # may exit with status 0 meanwhile

    def start(self, name: str, *args: str, module: str = "scenarios") -> _Process:
        process = _Process(name, list(args), self.directory, module)
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            process.kill()

    def wait_until(self, what: str, ready: Callable[[], bool], timeout: float = WAIT) -> None:
        """Poll ``ready`` until true; fail if ``timeout`` passes or a watched process ends."""
        deadline = time.monotonic() + timeout
        while not ready():
            for process in self.watched:
                status = process.popen.poll()
                if status is None or (status == 0 and process in self.may_finish):
                    continue
                if not ready():
                    raise AssertionError(
                        f"{process.name} exited ({process.popen.returncode}) before {what}:\n"
                        f"{process.err}"
                    )
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} in {timeout:g} s")
            time.sleep(POLL)

    def run_for(self, seconds: float) -> None:
        """Let the run go on for ``seconds`` (a moment of the plan, not a synchronisation),
        failing at once if a watched process ends meanwhile."""
        deadline = time.monotonic() + seconds
        self.wait_until("the kill moment", lambda: time.monotonic() >= deadline, seconds + WAIT)


# --------------------------------------------------------------------------- the run


class _Tail:
    """The JSON lines a process appends to a file, read as they come (complete lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._rest = b""

    def new(self) -> list[dict[str, Any]]:
        """The lines written since the last call."""
        try:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        *lines, self._rest = (self._rest + data).split(b"\n")
        return [json.loads(line) for line in lines if line.startswith(b"{")]


class _Acknowledged:
    """The receipts a POS process printed as acknowledged."""

    def __init__(self, pos: _Process) -> None:
        self._tail = _Tail(pos.out_path)
        self.receipts: set[str] = set()

    def __call__(self) -> int:
        for line in self._tail.new():
            if line.get("event") == "acknowledged":
                self.receipts.add(line["receipt"])
        return len(self.receipts)


class _Shown:
    """The ``shown`` notes of a phone trace: how often, and how, each receipt was shown."""

    def __init__(self, trace: Path) -> None:
        self._tail = _Tail(trace)
        self.times: Counter[tuple[str, str]] = Counter()  # (phone, receipt) -> notes
        self.how: dict[tuple[str, str], str] = {}  # (phone, receipt) -> the first note's detail

    def __call__(self) -> Counter[tuple[str, str]]:
        for record in self._tail.new():
            if record.get("event") == "note" and record.get("type") == "shown":
                # the trace names a receipt MERCHANT/RECEIPT; this test has one merchant
                key = (record["phone"], str(record["receipt"]).removeprefix(f"{MERCHANT}/"))
                self.times[key] += 1
                self.how.setdefault(key, str(record.get("detail")))
        return self.times


def _purchases(plan: KillPlan, path: Path) -> dict[str, str]:
    """Write the POS's purchases file; returns receipt -> the phone the POS names."""
    rng = random.Random(plan.seed)
    count = max(1, round(plan.rate * plan.stream_seconds))
    named: dict[str, str] = {}
    lines = []
    for n in range(count):
        receipt = f"K{n:06d}"
        phone = NAMED[n % len(NAMED)]
        draw = rng.random()
        if draw < plan.asked:
            buyer = phone
        elif draw < plan.asked + plan.mismatched:
            buyer = BUYER
        else:
            buyer = OFFLINE
        named[receipt] = phone
        line: dict[str, Any] = {"receipt_id": receipt, "phone_id": phone, "buyer": buyer}
        line |= {"skus": ["SKIN-FW-001"], "at": round(n / plan.rate, 4)}
        lines.append(json.dumps(line) + "\n")
    path.write_text("".join(lines))
    return named


def _listening_port(cloud: _Process) -> int | None:
    match = re.search(r"listening on 127\.0\.0\.1:(\d+)", cloud.out)
    return int(match.group(1)) if match else None


def _pushes_left(db: Path) -> int:
    """Pushes the cloud's store still has to send (pending) or re-send (outgoing)."""
    with SqliteStore(db, durable=False) as store:
        return len(tuple(store.pending_pushes())) + len(tuple(store.outgoing()))


def run_kill_rounds(
    directory: Path, plan: KillPlan, say: Callable[[str], None] | None = None
) -> KillCounts:
    """Run the trial of the module doc in ``directory``; the counts it found. ``say``
    gets a line per round."""
    trial = _Trial(directory)
    try:
        return _KillRun(trial, plan, say or (lambda _: None)).run()
    finally:
        trial.close()


class _KillRun:
    def __init__(self, trial: _Trial, plan: KillPlan, say: Callable[[str], None]) -> None:
        self.trial = trial
        self.plan = plan
        self.say = say
        self.started = time.monotonic()
        self.directory = trial.directory
        self.named = _purchases(plan, self.directory / "sales.jsonl")
        self.restarts: list[float] = []
        self.port = restart_port()  # the cloud's, at every start

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:5.1f} s"

    def run(self) -> KillCounts:
        trial = self.trial
        keys = subprocess.run(
            [
                *(sys.executable, "-m", "scenarios", "serve", "add-merchant"),
                *("--merchant", MERCHANT, "--merchant-keys", "keys.json"),
            ],
            cwd=self.directory,
            capture_output=True,
            text=True,
            check=True,
            timeout=WAIT,
        )
        (self.directory / "shop.key").write_text(keys.stdout)
        (self.directory / "cloud.toml").write_text(CLOUD_SETTINGS)
        cloud = self.start_cloud(0)
        target = ["--cloud", f"127.0.0.1:{self.port}"]
        ids = [arg for phone in (*NAMED, BUYER) for arg in ("--id", phone)]
        phones = trial.start(
            "phones",
            *("phone", *target, *ids),
            *("--token-file", "tokens.json", "--trace", "phones.jsonl"),
        )
        trial.watched.append(phones)
        trial.wait_until(
            "every phone subscribed", lambda: phones.out.count('"subscribed"') >= len(NAMED) + 1
        )
        pos = trial.start(
            "pos",
            "pos",
            *target,
            *("--merchant", MERCHANT, "--key-file", "shop.key"),
            *("--purchases", "sales.jsonl", "--notice-wait", "1"),
        )
        trial.watched.append(pos)
        trial.may_finish.append(pos)
        acknowledged = _Acknowledged(pos)
        trial.wait_until("a first acknowledgement", lambda: acknowledged() > 0)
        self.say(f"{len(self.named)} purchases over {self.plan.stream_seconds:.0f} s")
        cloud = self.kill_rounds(cloud, pos, acknowledged)

        # Let everything finish: the POS exits once every upload is acknowledged.
        timeout = self.plan.stream_seconds + 4 * WAIT
        trial.wait_until("the POS done", lambda: not pos.running, timeout)
        assert pos.popen.returncode == 0, f"pos exited {pos.popen.returncode}:\n{pos.err}"
        acknowledged()
        seen = set(acknowledged.receipts)
        shown = self.settle(seen)
        self.say(f"{self.elapsed()}: every upload acknowledged, every push settled")
        trial.watched.clear()
        assert phones.stop(signal.SIGINT) == 0, phones.err
        assert cloud.stop(signal.SIGINT) == 0, cloud.err
        shown()  # the last lines, written as the phones stopped
        return self.count(seen, shown)

    def start_cloud(self, number: int) -> _Process:
        """Start cloud ``number``, always on ``self.port``."""
        trial = self.trial
        cloud = trial.start(
            f"cloud-{number}",
            *("serve", "cloud", "--listen", f"127.0.0.1:{self.port}"),
            *("--db", "cloud.db", "--merchant-keys", "keys.json", "--scenario", "cloud.toml"),
            *("--push-timeout", f"{self.plan.push_timeout:g}s"),
            module=self.plan.cloud_module,
        )
        trial.watched.append(cloud)
        trial.wait_until(f"cloud-{number} listening", lambda: _listening_port(cloud) is not None)
        port = _listening_port(cloud)
        assert port == self.port
        return cloud

    def kill_rounds(self, cloud: _Process, pos: _Process, acknowledged: _Acknowledged) -> _Process:
        """Kill and restart the cloud ``plan.rounds`` times; the last cloud started."""
        trial, plan = self.trial, self.plan
        rng = random.Random(plan.seed)
        before = 0
        for number in range(1, plan.rounds + 1):
            # A random moment of the POS's uploads to this cloud, counted in uploads
            # acknowledged: the cloud first catches up on what queued while it was down.
            # Once the POS is done, a random moment of the pushes' tail.
            wait = rng.uniform(*plan.kill_after)
            more = before + max(1, round(wait * plan.rate))
            trial.wait_until(
                f"{more - before} acknowledgements from cloud-{number - 1}",
                functools.partial(_at_least, acknowledged, more, pos),
            )
            if not pos.running:
                trial.run_for(wait)
            trial.watched.remove(cloud)
            cloud.stop(signal.SIGKILL)
            killed = acknowledged()
            trial.run_for(rng.uniform(*plan.down))
            restarting = time.monotonic()
            cloud = self.start_cloud(number)
            self.restarts.append(time.monotonic() - restarting)
            before = acknowledged()
            self.say(
                f"{self.elapsed()}: round {number}: killed with {killed} uploads acknowledged, "
                f"listening again {self.restarts[-1]:.1f} s after its restart"
            )
        return cloud

    def settle(self, seen: set[str]) -> _Shown:
        """Wait until each upload in ``seen`` is shown at its named phone, or the store has
        had no push left to send or re-send for ``QUIET`` seconds, or nothing has moved
        (no receipt newly shown, the same number of pushes left in the store) for
        ``plan.stalled`` seconds: the count then names what was never shown. (A cloud that
        keeps pushes it never sends used to end the run in an assertion without counts
        after ``4 * WAIT`` seconds.)"""
        due = {(self.named[r], r) for r in seen}
        shown = _Shown(self.directory / "phones.jsonl")
        quiet_since = moved_at = time.monotonic()
        last: tuple[int, int] | None = None

        def settled() -> bool:
            nonlocal quiet_since, moved_at, last
            times = shown()
            if due <= times.keys():
                return True
            now = time.monotonic()
            left = _pushes_left(self.directory / "cloud.db")
            if left:
                quiet_since = now
            if (len(times), left) != last:
                last, moved_at = (len(times), left), now
            return now - quiet_since >= QUIET or now - moved_at >= self.plan.stalled

        self.trial.wait_until("every push shown or none left to send", settled, 4 * WAIT)
        return shown

    def count(self, seen: set[str], shown: _Shown) -> KillCounts:
        named, times = self.named, shown.times
        with SqliteStore(self.directory / "cloud.db", durable=False) as store:
            bound = {
                b.receipt_id for b in store.bindings() if named.get(b.receipt_id) == b.phone_id
            }
            lost = sorted(r for r in seen if (named[r], r) not in times)
            delivered = tuple(
                r for r in lost if store.was_delivered(ReceiptKey(MERCHANT, r), named[r])
            )
        shown_named = [(named[r], r) for r in sorted(seen) if (named[r], r) in times]
        return KillCounts(
            rounds=self.plan.rounds,
            seed=self.plan.seed,
            purchases=len(named),
            acknowledged=len(seen),
            bound=len(seen & bound),
            shown=len(shown_named),
            shown_by=dict(Counter(shown.how[key] for key in shown_named)),
            lost=tuple(lost),
            unbound=tuple(sorted(seen - bound)),
            shown_twice=tuple(sorted(f"{r} at {p}" for (p, r), n in times.items() if n > 1)),
            delivered_not_shown=delivered,
            restarts=tuple(self.restarts),
            wall=time.monotonic() - self.started,
        )


def _at_least(acknowledged: _Acknowledged, count: int, pos: _Process) -> bool:
    return acknowledged() >= count or not pos.running


# --------------------------------------------------------------------------- the test


def _env_int(name: str, default: int, *, least: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise pytest.UsageError(f"{name}={text!r}: expected a whole number") from None
    if value < least:
        raise pytest.UsageError(f"{name}={text!r}: expected {least} or more")
    return value


def test_kill_9_at_random_moments_loses_no_acknowledged_upload(tmp_path: Path) -> None:
    """Every upload acknowledged is bound and shown at the phone the POS named, once, however
    often the cloud was killed (issue 12, Field)."""
    long = os.environ.get("HYPOTHESIS_PROFILE") == "long"
    plan = KillPlan(
        rounds=_env_int(ROUNDS_ENV, 50 if long else 5, least=1),
        seed=_env_int(SEED_ENV, 12, least=0),
    )
    counts = run_kill_rounds(tmp_path, plan, say=lambda line: print(line, flush=True))
    print(counts.format(), flush=True)
    assert counts.acknowledged == counts.purchases  # the POS exits only then
    if not counts.ok:
        again = f"{ROUNDS_ENV}={plan.rounds} {SEED_ENV}={plan.seed} pytest -n 0 -s {__file__}"
        pytest.fail(
            f"{counts.format()}\n{counts.details()}\n"
            f"again (the moments are random, the outcome may differ): {again}",
            pytrace=False,
        )
