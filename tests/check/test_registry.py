"""The registry's promises: stable, well-formed ids whose letter matches the level, a hint each,
and every check exercised by a test that makes it fire."""

from __future__ import annotations

import re

from check.test_check_mutations import MUTATIONS, TOOL_MUTATIONS

from tornado_kit.check.base import REGISTRY, Level
from tornado_kit.check.runner import load_check_modules

ID = re.compile(r"[a-z]+\.[EWI]\d{3}")
LETTER = {Level.ERROR: "E", Level.WARNING: "W", Level.INFO: "I"}
TESTED_ELSEWHERE = {
    "security.E011": "test_parsers.py::test_tornado_below_the_security_floor_is_an_error",
    "nginx.I102": "test_generated_project.py::test_deploy_checks_pass_with_tls uses real certificates; "
    "test_stand_in_certificates_let_nginx_test_run",
    "database.E001": "test_generated_project.py::test_sqlite_with_several_hosts_is_an_error",
    "database.E002": "test_generated_project.py::test_unapplied_migrations_are_an_error",
}


def test_ids_are_well_formed_and_match_their_level() -> None:
    load_check_modules()
    for check_id, check in REGISTRY.items():
        assert ID.fullmatch(check_id), check_id
        assert check_id.split(".")[1][0] == LETTER[check.level], check_id
        assert check.hint and "\n" not in check.hint


def test_every_check_is_made_to_fire_by_some_test() -> None:
    load_check_modules()
    covered = set(MUTATIONS) | set(TOOL_MUTATIONS) | set(TESTED_ELSEWHERE)
    assert set(REGISTRY) == covered
