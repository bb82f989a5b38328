"""Secret files whatever their mode (reviewer W's S5): a merchant key, a device token, the
cloud's device-token secret, a TLS key that group or other may read is used with one
warning line, as ssh says of a private key; ``add-merchant --key-out`` writes the key
to a new file of mode 0600 (``> shop-01.key`` left it 0644). The planted
``tests/planted/other_only_mode_check.py`` looks at the others' bits only, and lets a
group-readable key pass."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from protocol.lowlevel import MerchantKeys
from scenarios import ScenarioError
from scenarios._cli._main import main
from scenarios._field._clients import ClientOptions, PosOptions, _merchant_key, _Tokens
from scenarios._field._common import is_open, server_ssl_context, warn_if_open
from scenarios._field._serve import load_secret
from tests.planted.other_only_mode_check import others_only

ALICE = "+8613800000001"


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "warning" in line]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_open_to_others_is_used_with_one_warning(
    tmp_path: Path, mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "shop-01.key"
    key.write_text("k3y\n")
    key.chmod(mode)
    warn_if_open(key, "--key-file")
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and f"{mode:04o}" in warnings[0] and "chmod 600" in warnings[0]
    key.chmod(0o600)
    warn_if_open(key, "--key-file")
    assert capsys.readouterr().err == ""


def test_a_pos_key_file_open_to_others_is_warned_of_once_it_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "shop-01.key"
    key.write_text("k3y\n")
    key.chmod(0o644)
    options = ClientOptions("127.0.0.1", 1, False, None, None, None, 0.0, 1.0, None, False)
    assert _merchant_key(PosOptions(options, "shop-01", key_file=key)) == "k3y"
    assert len(_warnings(capsys.readouterr().err)) == 1
    key.write_text("\n")  # refused: its one error line, no warning before it
    with pytest.raises(ScenarioError, match="empty"):
        _merchant_key(PosOptions(options, "shop-01", key_file=key))
    assert capsys.readouterr().err == ""


def test_the_cloud_warns_of_an_open_secret_and_tls_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "cloud.db.secret"
    load_secret(secret, create=True)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert capsys.readouterr().err == ""
    secret.chmod(0o644)
    load_secret(secret, create=False)
    assert len(_warnings(capsys.readouterr().err)) == 1
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    key.chmod(0o644)
    server_ssl_context(cert, key)
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and "--tls-key" in warnings[0]


def test_add_merchant_writes_the_key_to_a_new_private_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    argv = ["serve", "add-merchant", "--merchant-keys", "keys.json", "--merchant", "shop-01"]
    assert main([*argv, "--key-out", "shop-01.key"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "shop-01.key (mode 0600)" in err
    key_file = tmp_path / "shop-01.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    keys = MerchantKeys.from_json((tmp_path / "keys.json").read_text())
    assert keys.verify("shop-01", key_file.read_text().strip())
    # never written over: the key in it may be a merchant's only copy
    before = (tmp_path / "keys.json").read_text(), key_file.read_text()
    assert main([*argv, "--key-out", "shop-01.key"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already there" in err
    assert ((tmp_path / "keys.json").read_text(), key_file.read_text()) == before
    assert main([*argv, "--key-out", "keys.json"]) == 2
    assert "same file" in capsys.readouterr().err


def test_a_token_file_open_to_others_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = tmp_path / "alice.json"
    tokens.write_text(f'{{"{ALICE}": "t0k3n"}}\n')
    os.chmod(tokens, 0o644)
    assert _Tokens(tokens).tokens == {ALICE: "t0k3n"}
    warnings = _warnings(capsys.readouterr().err)
    assert len(warnings) == 1 and "--token-file" in warnings[0]


def _passed(judge: Callable[[int], bool]) -> list[str]:
    """The modes open to group or other that ``judge`` does not call open."""
    return [f"{mode:04o}" for mode in (0o644, 0o640, 0o604, 0o620, 0o610) if not judge(mode)]


def test_every_mode_open_to_group_or_other_is_found() -> None:
    assert _passed(is_open) == []
    assert not is_open(0o600) and not is_open(0o400)


def test_a_check_of_the_others_bits_only_is_caught() -> None:
    assert _passed(others_only) == ["0640", "0620", "0610"]
