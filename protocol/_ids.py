"""Identifiers of the protocol and their validators.

The patent's phone identifier is "e.g. the phone number": we use E.164 numbers
(``+`` then 8 to 15 digits, no leading zero). Receipt, merchant and POS ids are short
tokens of letters, digits and ``.-_:``.
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from ._errors import InvalidMessage

__all__ = ["is_phone_id", "is_token", "phone_id_validator", "token_validator"]

_PHONE_ID = re.compile(r"\+[1-9][0-9]{7,14}")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def is_phone_id(value: object) -> bool:
    """True when *value* is a well-formed phone identifier (E.164)."""
    return isinstance(value, str) and _PHONE_ID.fullmatch(value) is not None


def is_token(value: object) -> bool:
    """True when *value* is a well-formed receipt, merchant or POS id."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _owner(instance: Any) -> str:
    return type(instance).__name__


def phone_id_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_phone_id(value):
        raise InvalidMessage(
            f"{_owner(instance)}.{attribute.name}: malformed phone identifier {value!r} "
            "(expected E.164: '+' then 8 to 15 digits, e.g. '+8613800000001')"
        )


def token_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_token(value):
        raise InvalidMessage(
            f"{_owner(instance)}.{attribute.name}: malformed id {value!r} "
            "(expected 1 to 64 letters, digits or '.-_:', starting with a letter or digit)"
        )
