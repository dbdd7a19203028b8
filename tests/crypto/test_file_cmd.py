"""`gaiwan file encrypt|decrypt` from the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from gaiwan.cli import main
from tests.fixtures import teaclave_fixture


def test_decrypt_fixture_and_print_cmac(tmp_path: Path) -> None:
    """The gbdt training vector decrypts through the CLI and prints the manifest's cmac."""
    src = teaclave_fixture("functions/gbdt_training/train.enc")
    out = tmp_path / "train.txt"
    result = CliRunner().invoke(main, ["file", "decrypt", "--schema", "teaclave-file-128", "--key", "00" * 16,
                                       "-i", str(src), "-o", str(out), "--print-cmac"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "860030495909b84864b991865e9ad94f"
    assert out.read_bytes() == teaclave_fixture("functions/gbdt_training/train.txt").read_bytes()


def test_round_trip_with_expected_cmac(tmp_path: Path) -> None:
    """encrypt prints the cmac; decrypt with that cmac succeeds and with another one refuses."""
    plain = tmp_path / "rows.csv"
    plain.write_bytes(b"a,b\n1,2\n" * 1000)
    enc = tmp_path / "rows.enc"
    runner = CliRunner()
    key, iv = "11" * 16, "22" * 12
    res = runner.invoke(main, ["file", "encrypt", "--schema", "aes-gcm-128", "--key", key, "--iv", iv,
                               "-i", str(plain), "-o", str(enc), "--print-cmac"])
    assert res.exit_code == 0, res.output
    cmac = res.output.strip()
    ok = runner.invoke(main, ["file", "decrypt", "--schema", "aes-gcm-128", "--key", key, "--iv", iv,
                              "-i", str(enc), "-o", str(tmp_path / "back.csv"), "--cmac", cmac])
    assert ok.exit_code == 0 and (tmp_path / "back.csv").read_bytes() == plain.read_bytes()
    bad = runner.invoke(main, ["file", "decrypt", "--schema", "aes-gcm-128", "--key", key, "--iv", iv,
                               "-i", str(enc), "-o", str(tmp_path / "no.csv"), "--cmac", "00" * 16])
    assert bad.exit_code != 0 and "does not match" in bad.output
    assert not (tmp_path / "no.csv").exists()


def test_refusals(tmp_path: Path) -> None:
    """Existing outputs, wrong keys, raw outputs and non-hex keys are refused with one clear line."""
    plain = tmp_path / "p.txt"
    plain.write_bytes(b"x")
    runner = CliRunner()
    res = runner.invoke(main, ["file", "encrypt", "--schema", "raw", "--key", "", "-i", str(plain),
                               "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "inputs only" in res.output
    res = runner.invoke(main, ["file", "encrypt", "--schema", "aes-gcm-128", "--key", "zz", "-i", str(plain),
                               "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "hexadecimal" in res.output
    res = runner.invoke(main, ["file", "encrypt", "--schema", "teaclave-file-128", "--key", "00" * 16,
                               "-i", str(plain), "-o", str(plain)])
    assert res.exit_code != 0 and "refusing to overwrite" in res.output
    enc = tmp_path / "p.enc"
    runner.invoke(main, ["file", "encrypt", "--schema", "teaclave-file-128", "--key", "00" * 16,
                         "-i", str(plain), "-o", str(enc)])
    res = runner.invoke(main, ["file", "decrypt", "--schema", "teaclave-file-128", "--key", "01" * 16,
                               "-i", str(enc), "-o", str(tmp_path / "back")])
    assert res.exit_code != 0 and "wrong key" in res.output
    assert not (tmp_path / "back").exists()
