"""Deliberately broken variants of the protocol, for showing the testing toolkit finds
their bugs (``tests/scenarios/test_planted_bug.py``)."""
