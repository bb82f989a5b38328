"""The report pipeline's shortcuts (issue 13), each held to the path it short-cuts.

* ``ReportBuilder.sent`` and ``received`` return at once on a message class whose
  dispatch entry is ``_IDLE`` itself: every entry that does nothing is (so the shortcut is
  taken), and no entry that does something is (so nothing folded is skipped); planted
  ``tests/planted/idle_unless_reported.py`` (a class with the ledger's handler only taken
  as idle) must be told apart from the specification of the report.
* ``PromiseLedger.judge`` skips its walk of the requests (the uploads) when every one was
  answered, checked by their keys; planted ``tests/planted/counted_replies.py`` (checked
  by the tables' sizes) must be told apart from the specification of the promises.
"""

from __future__ import annotations

import attrs
import pytest

from protocol import Message, PurchaseUpload
from scenarios import ReportBuilder, load_scenario, run_scenario
from scenarios._sim._report import _IDLE, _Dispatch
from tests.planted.counted_replies import CountedReplies
from tests.planted.idle_unless_reported import IdleUnlessReported
from tests.scenarios.promise_runs import CLOUD, REPLIES, Event, _message
from tests.scenarios.test_promises_spec import _run, disagreement, report_disagreement


def test_every_entry_that_does_nothing_is_the_idle_one_and_no_other_is() -> None:
    scenario = attrs.evolve(load_scenario("quickstart"), purchases=50)
    builder = ReportBuilder(scenario)
    before = {kind: dict(table) for kind, table in _tables(builder).items()}
    run_scenario(scenario, observers=[builder])  # the acknowledgements retired on the way
    for tables in (before, _tables(builder)):
        idle = 0
        for table in tables.values():
            for cls, entry in table.items():
                assert (entry is _IDLE) == (entry == (None, None, False)), (cls, entry)
                idle += entry is _IDLE
        assert idle > 0  # not vacuous: the shortcut is taken
    # the acknowledgements' entries retired to the idle one once the ledger was reliable
    assert sum(e is _IDLE for t in _tables(builder).values() for e in t.values()) > sum(
        e is _IDLE for t in before.values() for e in t.values()
    )


def _tables(builder: ReportBuilder) -> dict[str, dict[type[Message], _Dispatch]]:
    return {"send": builder._on_send, "recv": builder._on_recv}


@pytest.mark.parametrize(
    "cloud",
    [
        "tests.planted.silent_cloud:silent_cloud",
        "tests.planted.dropped_dual_send:dropped_dual_send_cloud",
    ],
)
def test_a_class_with_the_ledgers_handler_only_taken_as_idle_is_told_apart(cloud: str) -> None:
    # planted: tests/planted/idle_unless_reported.py (upload-acks and subscribe-acks unread)
    events = list(_run("wrong-ids", cloud))
    assert any(isinstance(e.message, PurchaseUpload) for e in events)
    assert report_disagreement("wrong-ids", events) is None
    why = report_disagreement("wrong-ids", events, IdleUnlessReported)
    assert why is not None and "'lost'" in why  # promises broken, judged kept


# A request and an upload never answered, beside a stray refusal and a stray
# acknowledgement (of a request and an upload never seen sent): as many replies as requests,
# as many settled uploads as uploads, yet one of each is lost.
STRAY_REPLIES: list[Event] = [
    _message("send", "phone:B", CLOUD, "association-request", "m1/R1", {"request_id": 1}),
    _message("recv", CLOUD, "phone:C", "error-reply", None, {"request_id": 7}),
]
STRAY_ACKS: list[Event] = [
    _message("send", "pos:m1-a", CLOUD, "purchase-upload", "m1/R1", {"phone_id": "A"}),
    _message("recv", CLOUD, "pos:m1-b", "upload-ack", "m1/R1", {}),
]


@pytest.mark.parametrize(
    ("run", "lost"),
    [(STRAY_REPLIES, "'phone:B'"), (STRAY_ACKS, "'pos:m1-a'"), (REPLIES, None)],
    ids=["request", "upload", "replies"],
)
def test_requests_and_uploads_answered_checked_by_count_is_told_apart(
    run: list[Event], lost: str | None
) -> None:
    # planted: tests/planted/counted_replies.py
    assert disagreement(run) is None
    why = disagreement(run, CountedReplies)
    if lost is None:  # fewer replies than requests: the walk is not skipped, alike
        assert why is None
    else:
        assert why is not None and lost in why and "no-delivery-lost" in why
