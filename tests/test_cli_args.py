"""Every numeric option of every `fastbpe` subcommand, fed generated bad values (negative, beyond
64 bits, floats where ints go, overflowing sizes, junk): each is ONE `fastbpe: error: ...` line and
a failing exit status, never a traceback. The options are found by walking the parser, so a new
subcommand or option is covered without touching this file."""

from __future__ import annotations

import argparse

import pytest
from fastbpe.cli import build_parser, main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Valid values for the options a subcommand requires, so that only the option under test is bad.
REQUIRED = {
    "tokenizer": "gpt2",
    "vocab_size": "300",
    "params": "124M",
    "file": "SAMPLE",
    "output": "OUT",
}


def numeric_options() -> list[tuple[str, argparse.Action]]:
    """(subcommand, action) for every option that converts its value with a type."""
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = []
    for name, sp in sub.choices.items():
        for action in sp._actions:
            if action.option_strings and action.type is not None and action.nargs != 0:
                found.append((name, action))
    return found


OPTIONS = numeric_options()


def argv_with(command: str, action: argparse.Action, value: str, tmp) -> list[str]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    argv = [command]
    for other in sub.choices[command]._actions:
        optional = other.nargs in ("*", "?")  # argparse calls these "required" too
        if other.required and not optional and other.dest != action.dest:
            assert other.dest in REQUIRED, f"add a valid value for {command} {other.dest}"
            v = REQUIRED[other.dest].replace("OUT", str(tmp / "out")).replace("SAMPLE", "x.txt")
            argv += [other.option_strings[0], v] if other.option_strings else [v]
    return [*argv, f"{action.option_strings[-1]}={value}"]


BAD_WORDS = [
    "",
    " ",
    "abc",
    "12abc",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    "١٢",
    "10**20",
    "99999999999G",
    "1.5.5",
    "--",
    "9" * 5000,
    "-0.5",
]
BAD_VALUES = st.one_of(
    st.integers(max_value=-1).map(str),
    st.integers(min_value=2**64, max_value=10**400).map(str),
    st.sampled_from(BAD_WORDS),
    st.text(st.characters(blacklist_categories=("Nd", "Cs")), min_size=1, max_size=6),
)


def test_the_walk_finds_the_numeric_options():
    names = {(c, a.option_strings[-1]) for c, a in OPTIONS}
    assert {("train", "--vocab-size"), ("encode", "--chunk-size"), ("info", "--top")} <= names
    assert ("train", "--threads") in names and ("train", "--min-frequency") in names


@pytest.mark.parametrize(
    ("command", "action"), OPTIONS, ids=[f"{c} {a.option_strings[-1]}" for c, a in OPTIONS]
)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=BAD_VALUES)
def test_bad_numbers_are_one_error_line(command, action, value, tmp_path, capsys):
    argv = argv_with(command, action, value, tmp_path)
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code not in (0, None), (argv, out, err)
    assert len(lines) == 1 and lines[0].startswith("fastbpe: error: "), (argv, err)
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["decode", "-t", "gpt2", "--ids", "99999999999999999999"],
        ["decode", "-t", "gpt2", "--ids", "-1"],
        ["decode", "-t", "gpt2", "--ids", "50257"],
        ["decode", "-t", "gpt2", "--ids", "1.5"],
        ["decode", "-t", "gpt2", "--ids", ","],
        ["train", "--vocab-size", str(10**23), "-o", "OUT"],
        ["train", "--vocab-size", "255", "-o", "OUT"],
        ["encode", "-t", "gpt2", "--chunk-size", "99999999999G", "--text", "x"],
        ["encode", "-t", "gpt2", "--threads", str(10**20), "--text", "x"],
    ],
)
def test_the_reported_overflows(argv, tmp_path, capsys):
    argv = [str(tmp_path / "out") if a == "OUT" else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code not in (0, None)
    assert len(err.splitlines()) == 1 and err.startswith("fastbpe: error: "), err


@pytest.mark.parametrize(
    ("text", "bytes_"),
    [("1", 1), ("4K", 4096), ("1.5M", 3 << 19), ("2G", 2 << 30), ("64kb", 65536), ("1T", None)],
)
def test_sizes(text, bytes_):
    from fastbpe.cli._common import size

    if bytes_ is None:
        with pytest.raises(argparse.ArgumentTypeError):
            size(text)
    else:
        assert size(text) == bytes_
