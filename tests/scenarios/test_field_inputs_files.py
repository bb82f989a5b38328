"""The field processes' files: a path given twice (``--trace`` naming the store, the token
file, the sales file) is refused in one line before anything is written, by path, link
or hard link (reviewer W's F2). The planted ``tests/planted/path_string_shared_files.py``
compares the paths as written, and lets a link through."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from scenarios import ScenarioError
from scenarios._field._common import refuse_shared_files
from tests.planted.path_string_shared_files import refuse_same_strings
from tests.scenarios import cli_runs
from tests.scenarios.cli_runs import run_forked

ALICE = "+8613800000001"
SALE = '{"receipt_id": "R1", "phone_id": "+8613800000001", "skus": ["SKIN-FW-001"]}\n'

Named = Sequence[tuple[str, Path | None]]


def assocsim(directory: Path, *args: str, timeout: float = 60.0) -> tuple[int, str]:
    """``assocsim ARGS`` in ``directory``, a process of its own (forked from this one, its
    modules imported: :func:`~tests.scenarios.cli_runs.run_forked`): its exit status and
    stderr (a process that does not refuse runs on: the timeout says so as a failure, not
    a hang)."""
    return run_forked(args, directory, timeout)


def one_line_refusal(code: int, err: str, *words: str) -> None:
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err


def test_a_phone_whose_trace_is_its_token_file_is_refused(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(f'{{"{ALICE}": "t0k3n"}}\n')
    before = tokens.read_bytes()
    code, err = assocsim(
        tmp_path,
        *("phone", "--cloud", "127.0.0.1:1", "--id", ALICE),
        *("--token-file", "tokens.json", "--trace", "./tokens.json"),
        timeout=30,
    )
    one_line_refusal(code, err, "--trace", "--token-file", "same file")
    assert tokens.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.json"]


def test_a_cloud_whose_trace_is_its_store_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    store = tmp_path / "q.db"
    store.write_bytes(b"the store's bytes")
    code, err = assocsim(
        tmp_path, "serve", "cloud", "--listen", "127.0.0.1:0", "--db", "q.db", "--trace", "q.db"
    )
    one_line_refusal(code, err, "--trace", "--db", "same file")
    assert store.read_bytes() == b"the store's bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.db"]  # no q.1.db, no .secret


def test_a_pos_whose_trace_is_its_sales_file_by_a_hard_link_is_refused(tmp_path: Path) -> None:
    sales = tmp_path / "sales.jsonl"
    sales.write_text(SALE)
    os.link(sales, tmp_path / "trace.jsonl")
    code, err = assocsim(
        tmp_path,
        *("pos", "--cloud", "127.0.0.1:1", "--merchant", "shop-01", "--key", "k"),
        *("--purchases", "sales.jsonl", "--trace", "trace.jsonl"),
        timeout=30,
    )
    one_line_refusal(code, err, "--trace", "--purchases", "same file")
    assert sales.read_text() == SALE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.jsonl", "trace.jsonl"]


def _cases(tmp_path: Path) -> list[tuple[Named, Named]]:
    """Files a process must refuse: one path twice, written another way, through a
    symbolic link, through a hard link."""
    (tmp_path / "store.db").write_text("")
    (tmp_path / "keys.json").write_text("{}")
    os.link(tmp_path / "keys.json", tmp_path / "hard.json")
    (tmp_path / "link.db").symlink_to("store.db")
    db = tmp_path / "store.db"
    return [
        ([("--db", db), ("--trace", db)], []),
        ([("--db", db), ("--trace", tmp_path / "." / "sub" / ".." / "store.db")], []),
        ([("--db", db), ("--trace", tmp_path / "link.db")], []),
        ([("--trace", tmp_path / "hard.json")], [("--merchant-keys", tmp_path / "keys.json")]),
    ]


def _let_through(refuse: Callable[[Named, Named], None], tmp_path: Path) -> list[str]:
    missed = []
    for outputs, inputs in _cases(tmp_path):
        try:
            refuse(outputs, inputs)
        except ScenarioError as exc:
            assert "same file" in str(exc)
        else:
            missed.append(" ".join(f"{name} {path}" for name, path in [*outputs, *inputs]))
    return missed


def test_the_same_file_is_found_by_path_and_by_link(tmp_path: Path) -> None:
    assert _let_through(refuse_shared_files, tmp_path) == []
    # two inputs may be one file (a PEM with the certificate and its key), and a path
    # not given is no file
    pem = tmp_path / "server.pem"
    refuse_shared_files([("--trace", None)], [("--tls-cert", pem), ("--tls-key", pem)])


def test_a_check_comparing_paths_as_written_is_caught(tmp_path: Path) -> None:
    assert len(_let_through(refuse_same_strings, tmp_path)) == 3


@pytest.mark.parametrize(
    "args",
    [
        ("--trace", "x", "--status-file", "x"),
        ("--trace", "sdir", "--state-dir", "sdir"),
    ],
)
def test_a_phone_given_one_path_for_two_outputs_is_refused(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    code, err = assocsim(
        tmp_path, "phone", "--cloud", "127.0.0.1:1", "--id", ALICE, *args, timeout=30
    )
    one_line_refusal(code, err, "same file")
    assert list(tmp_path.iterdir()) == []


def test_the_forked_command_fails_as_its_own_process_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner behind :func:`assocsim` cannot pass what a ``python -m scenarios``
    process would fail: a refusal by argparse is its status 2 and line; a phone that does
    not refuse runs on, and the timeout fails the test; an uncaught exception is a
    traceback and status 1 (a planted ``main`` raising one, inherited by the child)."""
    code, err = assocsim(tmp_path, "phone")
    assert (code, err) == (
        2,
        "assocsim phone: error: the following arguments are required: "
        "--cloud, --id (see assocsim phone --help)\n",
    )
    with pytest.raises(subprocess.TimeoutExpired):
        assocsim(tmp_path, "phone", "--cloud", "127.0.0.1:1", "--id", ALICE, timeout=2)

    def broken(argv: list[str]) -> int:
        raise RuntimeError(f"planted: {argv}")

    monkeypatch.setattr(cli_runs, "main", broken)
    code, err = assocsim(tmp_path, "phone")
    assert code == 1 and "Traceback" in err and "RuntimeError: planted: ['phone']" in err
