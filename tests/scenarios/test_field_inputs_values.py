"""Values a field process would wait on forever in silence (reviewer W's F5): a NaN or
infinite ``--notice-wait``, a purchase ``at`` past a year (a Unix time, 1e308) or before
the start, a NaN ``--epoch``: each refused in one line, exit 2, before connecting (the
``--cloud`` here has no server: a process that does not refuse retries until the
timeout fails the test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.scenarios.test_field_inputs_files import assocsim, one_line_refusal

ALICE = "+8613800000001"


def _sales(path: Path, at: object) -> Path:
    line = {"receipt_id": "R1", "phone_id": ALICE, "skus": ["SKIN-FW-001"], "at": at}
    path.write_text(json.dumps(line) + "\n")  # NaN and Infinity as Python's json writes them
    return path


def _pos(directory: Path, *args: str) -> tuple[int, str]:
    words = ("pos", "--cloud", "127.0.0.1:1", "--merchant", "shop-01", "--key", "k")
    return assocsim(directory, *words, *args, timeout=30)


@pytest.mark.parametrize("wait", ["nan", "inf", "-1"])
def test_a_notice_wait_that_is_no_duration_is_refused(tmp_path: Path, wait: str) -> None:
    _sales(tmp_path / "sales.jsonl", 0)
    code, err = _pos(tmp_path, "--purchases", "sales.jsonl", "--notice-wait", wait)
    one_line_refusal(code, err, "--notice-wait", wait)


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (1e308, "seconds after the POS starts"),
        (1765000000, "not a Unix time"),
        (-5, "seconds after the POS starts"),
        (float("inf"), "expected a number"),  # the line's reader refused these before
        (float("nan"), "expected a number"),
    ],
)
def test_a_purchase_at_no_time_of_a_trial_is_refused(
    tmp_path: Path, at: float, problem: str
) -> None:
    _sales(tmp_path / "sales.jsonl", at)
    code, err = _pos(tmp_path, "--purchases", "sales.jsonl")
    one_line_refusal(code, err, "line 1: at", problem)


def test_a_purchase_a_day_after_the_start_is_taken(tmp_path: Path) -> None:
    # the bound is a year: a day is read (then the POS looks for its cloud, refused here
    # by its key, to end the process: an empty key)
    _sales(tmp_path / "sales.jsonl", 86400.0)
    (tmp_path / "empty.key").write_text("\n")
    code, err = assocsim(
        tmp_path,
        *("pos", "--cloud", "127.0.0.1:1", "--merchant", "shop-01", "--key-file", "empty.key"),
        *("--purchases", "sales.jsonl"),
        timeout=30,
    )
    one_line_refusal(code, err, "the merchant key is empty")


def test_a_nan_epoch_is_refused(tmp_path: Path) -> None:
    code, err = assocsim(
        tmp_path, "phone", "--cloud", "127.0.0.1:1", "--id", ALICE, "--epoch", "nan", timeout=30
    )
    assert code == 2 and "--epoch" in err and "finite" in err, err
