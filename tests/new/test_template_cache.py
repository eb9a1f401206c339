"""The template cache (rendered projects with holes, and compiled templates): used on later runs,
byte-identical to a fresh render, never stale, and never trusted unless private."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import take_snapshot

import tornado_kit.render
from tornado_kit.api import project_context
from tornado_kit.render import RenderedFile, render_project
from tornado_kit.template_cache import bytecode_cache, cache_directory


@pytest.fixture
def skeleton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "skeleton" / "project"
    root.mkdir(parents=True)
    (root / "hello.txt.jinja").write_text("hello [[ name ]]\n")
    return root


def render_hello(skeleton: Path, name: str = "world") -> bytes:
    (file,) = render_project({"name": name, "package": "world"}, skeleton)
    return file.content


def no_jinja(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any use of Jinja2 by render_project fail, so a passing render came from the rendered cache."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered with Jinja2 although the cache holds the project")

    monkeypatch.setattr(tornado_kit.render, "_environment", refuse)


def entries(suffix: str) -> list[Path]:
    return [path for path in cache_directory().iterdir() if path.name.endswith(suffix)]


def test_a_second_render_comes_from_the_cache_without_jinja2(skeleton: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert render_hello(skeleton) == b"hello world\n"
    assert len(entries(".json")) == 1 and len(entries(".cache")) == 1
    assert oct(cache_directory().stat().st_mode & 0o777) == "0o700"
    assert all(oct(path.stat().st_mode & 0o777) == "0o600" for path in cache_directory().iterdir())
    no_jinja(monkeypatch)
    assert render_hello(skeleton) == b"hello world\n"
    assert render_hello(skeleton, "moon") == b"hello moon\n"  # the values are filled in per project


def test_a_changed_template_is_rendered_again_not_served_stale(skeleton: Path) -> None:
    assert render_hello(skeleton) == b"hello world\n"
    template = skeleton / "hello.txt.jinja"
    before = template.stat()
    template.write_text("howdy [[ name ]]\n")  # same size, same mtime: only the bytes tell
    os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert render_hello(skeleton) == b"howdy world\n"
    assert len(entries(".json")) == 1  # the new entry replaced the stale one


def test_a_changed_copied_file_or_mode_is_not_served_stale(skeleton: Path) -> None:
    copied = skeleton / "static.txt"
    copied.write_text("one\n")
    render_project({"name": "world", "package": "world"}, skeleton)
    copied.write_text("two\n")
    copied.chmod(0o755)
    files = {str(f.path): f for f in render_project({"name": "world", "package": "world"}, skeleton)}
    assert files["static.txt"].content == b"two\n" and files["static.txt"].mode == 0o755


def test_the_features_are_part_of_the_key(skeleton: Path) -> None:
    (skeleton / "hello.txt.jinja").write_text("[% if auth %]login [[ name ]][% else %]open[% endif %]!\n")
    for auth in (True, False, True):
        (file,) = render_project({"name": "world", "package": "world", "auth": auth}, skeleton)
        assert file.content == (b"login world!\n" if auth else b"open!\n")
    assert len(entries(".json")) == 2


def test_a_changed_features_manifest_is_not_served_stale(skeleton: Path) -> None:
    (skeleton / "chat.txt").write_text("chat\n")
    manifest = skeleton.parent / "project-features.toml"
    manifest.write_text("[websocket]\nfiles = []\n")
    context = {"name": "world", "package": "world", "websocket": False}
    assert len(render_project(context, skeleton)) == 2
    manifest.write_text('[websocket]\nfiles = ["chat.txt"]\n')
    assert [str(f.path) for f in render_project(context, skeleton)] == ["hello.txt"]


TRICKY = """\
html [[ name | e ]]
py [[ ("Run " ~ name ~ " now") | py ]] [[ name | py ]]
toml [[ (package ~ ".app") | toml ]]
json [[ [package, package ~ ".x"] | tojson ]]
sh [[ name | sh ]]
secret [[ cookie_secret ]]
"""


def fresh(context: dict[str, object], skeleton: Path, monkeypatch: pytest.MonkeyPatch) -> list[RenderedFile]:
    with monkeypatch.context() as patch:
        patch.setenv("TKIT_NO_TEMPLATE_CACHE", "1")
        return render_project(context, skeleton)


def test_filtered_values_are_byte_identical_to_a_fresh_render(skeleton: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (skeleton / "hello.txt.jinja").write_text(TRICKY)
    render_project({"name": "first", "package": "first", "cookie_secret": "s1"}, skeleton)
    assert len(entries(".json")) == 1
    for name in ("a<b>&'\"c d", "x\\y\n$z"):
        context = {"name": name, "package": name[::-1], "cookie_secret": name + "!"}
        with monkeypatch.context() as patch:
            no_jinja(patch)
            cached = render_project(context, skeleton)
        assert cached == fresh(context, skeleton, monkeypatch)
        assert b"&lt;b&gt;&amp;" in cached[0].content if "<" in name else b"$z" in cached[0].content


@pytest.mark.parametrize(
    "template",
    [
        "[[ name | upper ]]",
        "[% if name == 'x' %]x[% endif %]",
        "[[ name[0] ]]",
        "[% set n = name %][[ n ]]",
        "[% filter upper %][[ name ]][% endfilter %]",
        "[[ (name | e) ~ '<' ]]",
    ],
)
def test_a_template_that_uses_a_value_beyond_output_is_never_cached(
    skeleton: Path, template: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (skeleton / "hello.txt.jinja").write_text(template + "!\n")
    render_hello(skeleton, "Y")  # holes would give the right text for "Y": only the template check keeps it out
    assert entries(".json") == []
    for name in ("x", "moon"):
        (expected,) = fresh({"name": name, "package": "world"}, skeleton, monkeypatch)
        assert render_hello(skeleton, name) == expected.content


def test_the_real_skeleton_from_the_cache_equals_a_fresh_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for features in ({}, {"auth": False}, {"websocket": False, "redis": True}):
        render_project(project_context("first", "first", **features))  # fills the cache
        context = project_context("my-site", "my_site", **features)
        cached = render_project(context)
        assert cached == fresh(context, Path(tornado_kit.render.templates_root() / "project"), monkeypatch)
        secrets = {f.content for f in cached if str(f.path) == ".env"} | {
            f.content for f in render_project(context) if str(f.path) == ".env"
        }
        assert len(secrets) == 1  # same context, same secret: filled from the context, not the cache
    assert len(entries(".json")) == 3


@pytest.mark.parametrize("garbage", [b"\x00garbage", b"[]", b'[["hello.txt.jinja", "\\u00009\\u0000", []]]', b"{}"])
def test_a_corrupt_cache_entry_is_a_miss(skeleton: Path, garbage: bytes) -> None:
    render_hello(skeleton)
    for entry in cache_directory().iterdir():
        entry.write_bytes(garbage)
    assert render_hello(skeleton) == b"hello world\n"


def test_a_cache_directory_others_can_write_is_not_used(skeleton: Path) -> None:
    cache_directory().mkdir(parents=True)
    os.chmod(cache_directory(), 0o777)
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"
    assert list(cache_directory().iterdir()) == []


def test_an_unwritable_cache_location_is_skipped(
    skeleton: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-dir"))
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"


def test_a_dry_run_reads_the_cache_but_writes_nowhere(
    workdir: Path, tkit: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert tkit("new", "mysite", "--dry-run").exit_code == 0
    assert not (tmp_path / "cache").exists()
    assert tkit("new", "mysite").exit_code == 0
    cached = take_snapshot(cache_directory())
    assert cached
    assert tkit("new", "other", "--dry-run").exit_code == 0
    assert take_snapshot(cache_directory()) == cached


def test_an_entry_with_the_right_key_but_broken_holes_is_a_miss(skeleton: Path) -> None:
    import json

    render_hello(skeleton)
    (entry,) = entries(".json")
    stored = json.loads(entry.read_text())
    stored["files"][0][1] = "hello \x0099\x00\n"  # a hole that does not exist
    entry.write_text(json.dumps(stored))
    assert render_hello(skeleton, "moon") == b"hello moon\n"
