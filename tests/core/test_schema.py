"""ladabench.core.schema: the one YAML reader treats user files as data (size, encoding,
alias expansion), and strict schemas."""
from __future__ import annotations

import time

import pytest

from ladabench.core.errors import ConfigError
from ladabench.core.schema import MAX_YAML_BYTES, load_yaml, parse_yaml

#: the "billion laughs" in YAML: 9 levels of 9 aliases expand to 9^9 = 387,420,489 strings
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi"))


def test_yaml_12_numbers():
    assert parse_yaml("a: 1e-4\nb: 2E5\nc: 1.0\nd: 7\ne: '3'") == {
        "a": 1e-4, "b": 2e5, "c": 1.0, "d": 7, "e": "3"}


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match=r"bomb\.yaml: refused: more than 100,000 values once "
                                          "anchors and aliases are expanded"):
        load_yaml(path)
    assert time.perf_counter() - t0 < 5
    # a few anchors, as people write them, are fine
    assert load_yaml(_write(tmp_path, "x: &o {k: 1}\ny: *o\nz: *o\n"))["z"] == {"k": 1}


def test_a_recursive_anchor_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="recursive anchor"):
        load_yaml(_write(tmp_path, "a: &a [1, *a]\n"))


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe\x00binary", r"not UTF-8 text \(byte 0xff at offset 0\)"),
    (b"a: [1, 2\n", r"invalid YAML"),
    (b"- 1\n- 2\n", r"expected a mapping of sections, got list"),
])
def test_bad_files_are_one_line_config_errors(tmp_path, content, expected):
    path = tmp_path / "s.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=expected) as e:
        load_yaml(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match=r"big\.yaml: larger than 1,048,576 bytes"):
        load_yaml(path)


def test_a_folder_or_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="is a folder; expected a YAML file"):
        load_yaml(tmp_path)
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yaml")


def _write(tmp_path, text: str):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    return path
