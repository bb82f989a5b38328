"""Identifiers of the protocol and their validators.

The patent's phone identifier is "e.g. the phone number": we use E.164 numbers
(``+`` then 8 to 15 digits, no leading zero). Receipt, merchant and POS ids are short
tokens of letters, digits and ``.-_:``.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from ._errors import InvalidMessage

__all__ = ["is_phone_id", "is_token", "phone_id_validator", "token_validator"]

_PHONE_ID = re.compile(r"\+[1-9][0-9]{7,14}")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


# Plain strs already found well-formed, so that the ids a party sees again and again (its
# merchant, its POS, its phones, the receipts in flight) skip the regular expression.
# Bounded: emptied when full. Only exact strs go in (a str subclass may compare oddly).
_MAX_KNOWN: Final = 100_000
_known_phone_ids: set[str] = set()
_known_tokens: set[str] = set()


def is_phone_id(value: object) -> bool:
    """True when *value* is a well-formed phone identifier (E.164)."""
    return _well_formed(value, _PHONE_ID, _known_phone_ids)


def is_token(value: object) -> bool:
    """True when *value* is a well-formed receipt, merchant or POS id."""
    return _well_formed(value, _TOKEN, _known_tokens)


def _well_formed(value: object, pattern: re.Pattern[str], known: set[str]) -> bool:
    """*value* matches *pattern*, remembered in *known* (bounded) if it is a plain str."""
    if type(value) is str and value in known:
        return True
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        return False
    if type(value) is str:
        if len(known) >= _MAX_KNOWN:
            known.clear()
        known.add(value)
    return True


def _owner(instance: Any) -> str:
    return type(instance).__name__


def phone_id_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is str and value in _known_phone_ids:  # the common case, without a call
        return
    if not is_phone_id(value):
        raise InvalidMessage(
            f"{_owner(instance)}.{attribute.name}: malformed phone identifier {value!r} "
            "(expected E.164: '+' then 8 to 15 digits, e.g. '+8613800000001')"
        )


def token_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is str and value in _known_tokens:  # the common case, without a call
        return
    if not is_token(value):
        raise InvalidMessage(
            f"{_owner(instance)}.{attribute.name}: malformed id {value!r} "
            "(expected 1 to 64 letters, digits or '.-_:', starting with a letter or digit)"
        )
