"""Every JSON example in docs/wire-format.md decodes, and every message type has one.

An example with an ``"id"`` is a whole frame envelope (see *Framing on TCP*): it is read
by the frame decoder, the others by the message codec. Every error code is documented.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from protocol import (
    MESSAGE_TYPES,
    ErrorCode,
    decode_message,
    encode_message,
)
from protocol.lowlevel import (
    CONTROL_TYPES,
    decode_payload,
    encode_envelope,
)

DOC = Path(__file__).parents[2] / "docs" / "wire-format.md"


def _examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def documented_error_codes() -> set[str]:
    """The codes listed in the document's error-code tables (rows "| `code` | ...")."""
    text = DOC.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([a-z-]+)` \| ", text, re.MULTILINE)) & {
        c.value for c in ErrorCode
    }


def test_every_example_decodes_and_re_encodes_identically() -> None:
    examples = _examples()
    assert examples
    for example in examples:
        if "id" in example:  # a frame's envelope
            frame = decode_payload(json.dumps(example).encode())
            again = encode_envelope(
                frame.message,
                frame.id,
                sender=frame.sender,
                recipient=frame.recipient,
                refers_to=frame.refers_to,
            )
            assert again == example
        else:
            assert encode_message(decode_message(example)) == example


def test_every_message_type_is_documented() -> None:
    assert {example["type"] for example in _examples()} == set(MESSAGE_TYPES) | set(CONTROL_TYPES)


def test_every_error_code_is_documented() -> None:
    assert documented_error_codes() == {code.value for code in ErrorCode}
