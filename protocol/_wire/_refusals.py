"""The typed refusals of bad frames: each a WireError whose code is the reply's."""

from __future__ import annotations

import reprlib
from typing import Any

from protocol._core._errors import RemoteProtocolError
from protocol._core._messages import ErrorCode, ErrorReply

from ._codec import (
    WIRE_VERSION,
)
from ._limits import MAX_DETAIL_LENGTH


class WireError(RemoteProtocolError):
    """The peer sent a frame this side refuses; ``code`` is the refusal's error code.

    ``fatal``: the stream can no longer be trusted (an unreadable length, a stream cut
    inside a frame): the connection must close. ``frame_id``, ``receipt_id`` and
    ``request_id`` name what was refused, when they could be read.
    """

    code: ErrorCode = ErrorCode.MALFORMED_FRAME
    fatal: bool = False

    def __init__(
        self,
        detail: str,
        *,
        frame_id: int | None = None,
        receipt_id: str | None = None,
        request_id: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.frame_id = frame_id
        self.receipt_id = receipt_id
        self.request_id = request_id

    def reply(self) -> ErrorReply:
        """The error reply that tells the peer what was refused and why."""
        return ErrorReply(self.code, _cut(self.detail), self.receipt_id, self.request_id)


class FrameTooLarge(WireError):
    """A length prefix announced more than the limit (fatal: the payload is never read)."""

    code = ErrorCode.FRAME_TOO_LARGE
    fatal = True


class TruncatedFrame(WireError):
    """The stream ended inside a frame (fatal)."""

    fatal = True


class MalformedFrame(WireError):
    """The payload is not UTF-8 JSON, or not a valid envelope."""


class UnsupportedVersion(WireError):
    """The frame is of another wire version than this side speaks."""

    code = ErrorCode.UNSUPPORTED_VERSION

    def __init__(self, version: object, ours: int = WIRE_VERSION, **ids: Any) -> None:
        super().__init__(
            f"unsupported wire version: the peer speaks {_show(version)}, this side speaks {ours}",
            **ids,
        )
        self.version = version
        self.ours = ours


class InvalidBody(WireError):
    """The envelope is fine but its message is not valid (a field breaks a rule)."""

    code = ErrorCode.INVALID_MESSAGE


class UnexpectedFrame(WireError):
    """A valid frame at the wrong moment (e.g. a second hello)."""

    code = ErrorCode.UNEXPECTED_MESSAGE


class HelloRequired(WireError):
    """The first frame of a connection was not a hello (fatal)."""

    code = ErrorCode.HELLO_REQUIRED
    fatal = True


def _cut(detail: str) -> str:
    detail = " ".join(detail.split()) or "refused"
    if len(detail) > MAX_DETAIL_LENGTH:
        return detail[: MAX_DETAIL_LENGTH - 3] + "..."
    return detail


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_repr.maxlevel = 2


def _show(value: object) -> str:
    """A short, safe rendering of a peer's value for an error detail."""
    return _repr.repr(value)
