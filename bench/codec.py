"""The TCP wire codec against plain JSON: one frame's encoding and decoding.

Run from the repository root::

    .venv/bin/python bench/codec.py [--rounds N]

For each message of a purchase flow (the frames ``bench/tcp.py`` exchanges), in the same
run: ``protocol.lowlevel.encode_frame`` (unstructuring, envelope, orjson, length prefix) against
the stdlib's ``json.dumps`` of the same envelope, and the connections' decoding of the
payload (parsing, every check of the envelope, structuring and validating the message)
against ``json.loads`` of it, which checks nothing. Each figure is the best, over N rounds
(default 3) of 9 repeats of 1,000 calls, of the CPU time per call in microseconds; the
ratios are what to compare between machines.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from protocol import (
    AssociatedProduct,
    AssociationRequest,
    AssociationResponse,
    Item,
    Message,
    PurchaseUpload,
    Reason,
    ReceiptNotice,
    UploadAck,
)
from protocol._wire._decode import _decode
from protocol.lowlevel import (
    encode_frame,
)

PHONE = "+8613800000001"


def messages() -> dict[str, Message]:
    items = tuple(
        Item(f"SKIN-FW-00{i}", f"Gentle Face Wash {i} 150ml", "face-wash", "Hydra", "", 1, 6.49)
        for i in range(3)
    )
    products = tuple(
        AssociatedProduct(
            f"SKIN-LO-00{i}",
            f"Hydra Moisturising Lotion {i} 200ml",
            "lotion",
            "Hydra",
            "",
            8.49 + i,
            Reason.COMPLEMENT if i % 2 else Reason.OFFER,
            1.15 - i / 10,
            None if i % 2 else "2 for 1 this week",
        )
        for i in range(5)
    )
    return {
        "purchase-upload": PurchaseUpload("r-000123", "shop-01", "pos-1", PHONE, items, 1712.5),
        "upload-ack": UploadAck("r-000123", "shop-01"),
        "receipt-notice": ReceiptNotice("r-000123", "shop-01", 1712.5),
        "association-request": AssociationRequest(17, "r-000123", "shop-01", PHONE),
        "association-response": AssociationResponse(17, "r-000123", "shop-01", products),
    }


def _best(call: Callable[[], Any]) -> float:
    """CPU microseconds per call: the best of 9 repeats of 1,000 calls."""
    return min(timeit.repeat(call, number=1000, repeat=9, timer=time.process_time)) / 1000 * 1e6


def measure(message: Message) -> tuple[int, float, float, float, float]:
    payload = encode_frame(message, 5, recipient="cloud")[4:]
    assert _decode(payload)[1] == message
    envelope = json.loads(payload)
    return (
        len(payload),
        _best(lambda: encode_frame(message, 5, recipient="cloud")),
        _best(lambda: json.dumps(envelope, separators=(",", ":")).encode()),
        _best(lambda: _decode(payload)),
        _best(lambda: json.loads(payload)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    best: dict[str, tuple[int, float, float, float, float]] = {}
    for _ in range(args.rounds):
        for name, message in messages().items():
            row = measure(message)
            old = best.get(name)
            if old is not None:
                row = (row[0], min(old[1], row[1]), min(old[2], row[2]), min(old[3], row[3]),
                       min(old[4], row[4]))  # fmt: skip
            best[name] = row
    print(
        f"{'frame':22} {'bytes':>5} {'encode':>8} {'dumps':>8} {'ratio':>6}"
        f" {'decode':>8} {'loads':>8} {'ratio':>6}   (CPU us per call)"
    )
    for name, (size, encode, dumps, decode, loads) in best.items():
        print(
            f"{name:22} {size:5} {encode:8.2f} {dumps:8.2f} {encode / dumps:5.2f}x"
            f" {decode:8.2f} {loads:8.2f} {decode / loads:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
