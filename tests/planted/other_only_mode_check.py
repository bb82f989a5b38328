"""Planted bug for tests/scenarios/test_field_inputs_secrets.py: the check of a secret
file's mode that looks at the others' bits only (``mode & 0o007``), so a key readable by
the whole group (0640, a shared ``staff`` group) is used without a word."""

from __future__ import annotations


def others_only(mode: int) -> bool:
    return bool(mode & 0o007)  # the bug: the group's bits are not looked at
