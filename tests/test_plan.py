"""The shared plan/apply pair (plan.py, writer.py) on its own: each verb, refusals, diffs, all-or-nothing."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest
from support import take_snapshot

from tornado_kit import writer
from tornado_kit.errors import TargetExists
from tornado_kit.plan import BLOCKED, DIFFERS, RenderedFile, plan_files, render_diff
from tornado_kit.writer import WriteFailed, apply_plan


def files(texts: dict[str, str]) -> list[RenderedFile]:
    """Build the files to plan from a {path: text} dict."""
    return [RenderedFile(PurePosixPath(path), text.encode()) for path, text in texts.items()]


def test_each_file_gets_its_verb(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("same\n")
    (tmp_path / "other.txt").write_text("old\n")
    wanted = files({"same.txt": "same\n", "other.txt": "new\n", "fresh.txt": "fresh\n"})
    verbs = {str(a.path): (a.verb, a.reason) for a in plan_files(wanted, tmp_path, force=False).actions}
    assert verbs == {"same.txt": ("identical", ""), "other.txt": ("conflict", DIFFERS), "fresh.txt": ("create", "")}
    forced = {str(a.path): a.verb for a in plan_files(wanted, tmp_path, force=True).actions}
    assert forced == {"same.txt": "identical", "other.txt": "overwrite", "fresh.txt": "create"}


def test_a_symlink_is_never_followed_even_with_force(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "a.conf").write_text("theirs\n")
    target = tmp_path / "out"
    (target / "nginx").mkdir(parents=True)
    (target / "nginx" / "a.conf").symlink_to(outside / "a.conf")
    plan = plan_files(files({"nginx/a.conf": "mine\n"}), target, force=True)
    assert [(a.verb, a.reason) for a in plan.actions] == [("conflict", BLOCKED)]
    with pytest.raises(TargetExists, match="never replaced"):
        apply_plan(plan)
    assert (outside / "a.conf").read_text() == "theirs\n"


def test_a_symlinked_target_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(TargetExists, match="symlink"):
        plan_files(files({"a": "a\n"}), tmp_path / "link", force=True)


def test_conflicts_refuse_the_whole_plan(tmp_path: Path) -> None:
    (tmp_path / "b").write_text("old\n")
    before = take_snapshot(tmp_path)
    plan = plan_files(files({"a": "new\n", "b": "new\n"}), tmp_path, force=False)
    with pytest.raises(TargetExists, match="use --force"):
        apply_plan(plan)
    assert take_snapshot(tmp_path) == before


def test_render_diff_shows_the_change_of_a_modified_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("one\ntwo\n")
    plan = plan_files(files({"a": "one\nthree\n", "b": "new\n"}), tmp_path, force=True)
    overwrite, create = plan.actions
    assert render_diff(plan, overwrite) == "--- a/a\n+++ b/a\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n"
    assert render_diff(plan, create) == ""


def test_a_failure_half_way_puts_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").write_text("old a\n")
    before = take_snapshot(tmp_path)
    plan = plan_files(files({"a": "new a\n", "sub/b": "new b\n", "sub/c": "new c\n"}), tmp_path, force=True)
    real_rename, calls = os.rename, [0]

    def rename_then_fail(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        calls[0] += 1
        if calls[0] == 4:
            raise OSError(28, "No space left on device")
        real_rename(source, destination)

    monkeypatch.setattr(writer.os, "rename", rename_then_fail)
    with pytest.raises(WriteFailed, match="could not write the files .* nothing was changed"):
        apply_plan(plan)
    assert take_snapshot(tmp_path) == before
