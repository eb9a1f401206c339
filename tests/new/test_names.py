"""Name checks: every refusal exits 2 with a one-line reason and a valid suggestion, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import Snapshot

from tornado_kit.errors import BadInput
from tornado_kit.new.names import check_name, normalize_package, suggest_name

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("a/b", "not a path"),
    ("../evil", "not a path"),
    ("/tmp/abs", "not a path"),
    ("a\\b", "not a path"),
    ("..", "not a path"),
    ("my..site", "not a path"),
    ("mysite\n", "letters, digits"),
    ("my site", "letters, digits"),
    ("my$site", "letters, digits"),
    ("-mysite", "letters, digits"),
    ("mysite-", "letters, digits"),
    ("_private", "letters, digits"),
    ("1site", "cannot start with a digit"),
    ("2-fast", "cannot start with a digit"),
    ("café", "non-ASCII"),
    ("ｍｙｓｉｔｅ", "non-ASCII"),
    ("class", "keyword"),
    ("import", "keyword"),
    ("test", "standard library"),
    ("tests", "standard library"),
    ("site", "standard library"),
    ("asyncio", "standard library"),
    ("json", "standard library"),
    ("Email", "standard library"),
    ("http", "standard library"),
    ("tornado", "dependency"),
    ("Tornado", "dependency"),
    ("click", "dependency"),
    ("jinja2", "dependency"),
    ("watchdog", "dependency"),
    ("pytest", "dependency"),
    ("redis", "dependency"),
    ("tornado-kit", "dependency"),
    ("setuptools", "dependency"),
    ("con", "device name Windows reserves"),
    ("CON", "device name Windows reserves"),
    ("Nul", "device name Windows reserves"),
    ("prn", "device name Windows reserves"),
    ("aux", "device name Windows reserves"),
    ("com1", "device name Windows reserves"),
    ("COM9", "device name Windows reserves"),
    ("lpt1", "device name Windows reserves"),
    ("Lpt9", "device name Windows reserves"),
    ("con.site", "device name Windows reserves"),
]


@pytest.mark.parametrize(("name", "reason"), REFUSED)
def test_refused_name_exits_2_with_reason_and_suggestion_and_writes_nothing(
    name: str, reason: str, workdir: Path, tkit: Callable[..., Result], snapshot: Callable[[Path], Snapshot]
) -> None:
    parent_before = snapshot(workdir.parent)
    result = tkit("new", "--", name)
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert message.count("\n") == 1 and message.startswith("Error: invalid project name"), message
    assert reason in message
    suggestion = message.rsplit("try ", 1)[1].strip().strip("'")
    assert check_name(suggestion).package == normalize_package(suggestion)
    assert snapshot(workdir.parent) == parent_before


def test_keywords_are_checked_after_normalization() -> None:
    # `None` is a keyword, but the package is the lower-cased `none`, which is a fine name.
    assert check_name("None").package == "none"
    with pytest.raises(BadInput, match="keyword"):
        check_name("Class")


@pytest.mark.parametrize(
    ("name", "package"),
    [
        ("mysite", "mysite"),
        ("my-site", "my_site"),
        ("My.Site", "my_site"),
        ("my__site-2", "my_site_2"),
        ("a", "a"),
        ("notes_app", "notes_app"),
        ("console", "console"),
        ("com10", "com10"),
        ("my-con", "my_con"),
    ],
)
def test_accepted_names_normalize_to_a_package(name: str, package: str) -> None:
    checked = check_name(name)
    assert (checked.name, checked.package) == (name, package)


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("", "mysite"),
        ("../evil", "evil"),
        ("café", "cafe"),
        ("1site", "my_1site"),
        ("json", "my_json"),
        ("my site", "my_site"),
        ("mysite\n", "mysite"),
        ("con", "my_con"),
        ("LPT1", "my_lpt1"),
    ],
)
def test_suggestions_are_close_and_valid(name: str, suggestion: str) -> None:
    assert suggest_name(name) == suggestion
    check_name(suggestion)


def test_the_directory_argument_may_be_a_path_when_the_name_is_valid(
    workdir: Path, tkit: Callable[..., Result]
) -> None:
    result = tkit("new", "my-site", "deep/er/place")
    assert result.exit_code == 0, result.output
    assert (workdir / "deep/er/place/my_site/__init__.py").is_file()
