"""The field processes' refusals say what is wrong where (reviewer W's F6): a missing
``--tls-cert`` was "cannot read None", a file without a certificate "[SSL] PEM lib", a
sales line ``[1,2]`` "'list' object has no attribute 'keys'", a bad ``phone_id`` was
called the "buyer", a receipt given twice named neither the receipt nor the line, a
``--token-file`` directory was "not a token file". (A bad ``--listen`` host:
test_field_inputs_serve.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trustme

from scenarios import ScenarioError
from scenarios._field._clients import _Tokens, read_purchases
from scenarios._field._common import server_ssl_context

ALICE = "+8613800000001"
SALE = {"receipt_id": "R1", "phone_id": ALICE, "skus": ["SKIN-FW-001"]}


def _refusal(call: object, *args: object) -> str:
    assert callable(call)
    with pytest.raises(ScenarioError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.fixture
def pems(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A certificate, its key, and another certificate's key."""
    ca = trustme.CA()
    server, other = ca.issue_cert("127.0.0.1"), ca.issue_cert("127.0.0.1")
    cert, key, wrong = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "wrong.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    server.private_key_pem.write_to_path(str(key))
    other.private_key_pem.write_to_path(str(wrong))
    for path in (key, wrong):
        path.chmod(0o600)
    return cert, key, wrong


def test_the_tls_files_are_named_in_what_is_wrong_with_them(
    tmp_path: Path, pems: tuple[Path, Path, Path]
) -> None:
    cert, key, wrong = pems
    missing = tmp_path / "missing.pem"
    message = _refusal(server_ssl_context, missing, key)
    assert message == f"cannot read --tls-cert {missing}: no such file"
    assert "--tls-key" in _refusal(server_ssl_context, cert, missing)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a PEM at all\n")
    assert "--tls-cert" in _refusal(server_ssl_context, garbage, key)
    assert "holds no PEM certificate" in _refusal(server_ssl_context, garbage, key)
    assert "holds no PEM private key" in _refusal(server_ssl_context, cert, cert)
    assert "is not the private key" in _refusal(server_ssl_context, cert, wrong)
    server_ssl_context(cert, key)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (["[1,2]"], "line 1: [1,2] is not a JSON object"),
        (['"R1"'], 'line 1: "R1" is not a JSON object'),
        ([json.dumps({**SALE, "phone_id": "12345"})], "line 1: phone_id '12345' is not an E.164"),
        (
            [json.dumps({**SALE, "buyer": "12345"})],
            "line 1: buyer '12345' is not an E.164",
        ),
        (
            [json.dumps(SALE), json.dumps({**SALE, "receipt_id": "R2"}), json.dumps(SALE)],
            "line 3: receipt_id 'R1' again (first on line 1)",
        ),
    ],
)
def test_a_bad_sales_line_is_named_with_what_is_wrong(
    tmp_path: Path, lines: list[str], problem: str
) -> None:
    path = tmp_path / "sales.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    message = _refusal(read_purchases, path)
    assert problem in message and message.startswith(str(path)), message


def test_a_token_file_that_is_a_directory_is_called_one(tmp_path: Path) -> None:
    message = _refusal(_Tokens, tmp_path)
    assert message == f"--token-file {tmp_path} is a directory: give a file's path"
    unreadable = tmp_path / "tokens.json"
    unreadable.write_bytes(b"\xff\xfe not utf-8")
    assert "not UTF-8" in _refusal(_Tokens, unreadable)  # not "not a token file"
