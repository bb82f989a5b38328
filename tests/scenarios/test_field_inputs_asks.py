"""``phone --ask`` and its refusals (reviewer W's F9): a phone whose ask the cloud refused
exits 1, as a POS whose upload was refused does (it exited 0), and a refusal answers the
ask of its own merchant's receipt only (receipt ids are per merchant). The planted
``tests/planted/receipt_id_only_refusals.py`` matches by receipt id alone, and is
caught."""

from __future__ import annotations

import io
from pathlib import Path

from actors import EventKind, TraceEvent
from protocol import CLOUD, ErrorCode, ErrorReply, PhoneMachine, ReceiptKey
from scenarios._field._clients import ClientOptions, _PhoneProcess, _Tokens
from tests.planted.receipt_id_only_refusals import ReceiptIdOnlyPhone
from tests.scenarios.field_processes import Procs

ALICE = "+8613800000001"
MINE, THEIRS = ReceiptKey("shop-01", "R1"), ReceiptKey("shop-02", "R1")


def _refused_once(process_class: type[_PhoneProcess]) -> tuple[set[ReceiptKey], set[ReceiptKey]]:
    """(answered, refused) after the cloud refused shop-02's R1 of a phone asking both."""
    options = ClientOptions("127.0.0.1", 1, False, None, None, None, 0.0, 1.0, None, False)
    process = process_class([PhoneMachine(ALICE)], _Tokens(None), options, io.StringIO())
    process.asks = (MINE, THEIRS)
    refusal = ErrorReply(ErrorCode.UNKNOWN_RECEIPT, "no such receipt", "R1", 1, "shop-02")
    process._keep(TraceEvent(0.0, EventKind.RECEIVE, CLOUD, f"phone:{ALICE}", refusal))
    return process.answered, process.refused_asks


def test_a_refusal_answers_its_own_merchants_ask_only() -> None:
    assert _refused_once(_PhoneProcess) == ({THEIRS}, {THEIRS})


def test_a_refusal_matched_by_receipt_id_alone_is_caught() -> None:
    assert _refused_once(ReceiptIdOnlyPhone) != ({THEIRS}, {THEIRS})


def test_a_phone_whose_ask_is_refused_exits_1_saying_which(procs: Procs, tmp_path: Path) -> None:
    cloud, port = procs.cloud("cloud", "--db", "cloud.db")
    phone = procs.start(
        "phone",
        *("phone", "--cloud", f"127.0.0.1:{port}", "--id", ALICE, "--token-file", "t.json"),
        *("--ask", "shop-01/R404"),
    )
    assert phone.wait() == 1, phone.err
    (answer,) = phone.json_lines()[-1:]
    assert answer["event"] == "refused" and answer["receipt"] == "R404"
    assert "1 of 1 asks refused: shop-01/R404" in phone.err
    assert cloud.interrupt() == 0
