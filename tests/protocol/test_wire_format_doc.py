"""Every JSON example in docs/wire-format.md decodes, and every message type has one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from protocol import MESSAGE_TYPES, decode_message, encode_message

DOC = Path(__file__).parents[2] / "docs" / "wire-format.md"


def _examples() -> list[dict[str, object]]:
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    return [json.loads(block) for block in blocks]


def test_every_example_decodes_and_re_encodes_identically() -> None:
    examples = _examples()
    assert examples
    for example in examples:
        assert encode_message(decode_message(example)) == example


def test_every_message_type_is_documented() -> None:
    assert {example["type"] for example in _examples()} == set(MESSAGE_TYPES)
