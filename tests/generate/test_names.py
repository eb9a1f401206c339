"""Generator names: English plurals, and refusals before anything is written."""

from __future__ import annotations

import pytest

from tornado_kit.errors import BadInput
from tornado_kit.generate.names import generated_name, pluralize


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("book", "books"),
        ("box", "boxes"),
        ("bus", "buses"),
        ("church", "churches"),
        ("dish", "dishes"),
        ("city", "cities"),
        ("day", "days"),
        ("person", "people"),
        ("child", "children"),
        ("leaf", "leaves"),
        ("hero", "heroes"),
        ("photo", "photos"),
        ("blog_post", "blog_posts"),
        ("sales_person", "sales_people"),
        ("quiz", "quizzes"),
    ],
)
def test_english_plurals(singular: str, plural: str) -> None:
    assert pluralize(singular) == plural


def test_forms() -> None:
    name = generated_name("blog_post")
    assert (name.class_name, name.plural_class, name.slug, name.plural_slug) == (
        "BlogPost",
        "BlogPosts",
        "blog-post",
        "blog-posts",
    )
    assert generated_name("cactus", "cactuses").plural == "cactuses"


@pytest.mark.parametrize(
    ("name", "plural", "message"),
    [
        ("Book", None, "lower-case"),
        ("2books", None, "lower-case"),
        ("book\n", None, "lower-case"),
        ("class", None, "keyword"),
        ("match", None, "keyword"),
        ("urls", None, "already uses"),
        ("sheep", None, "--plural"),
        ("book", "Books", "invalid plural"),
        ("x" * 41, None, "at most"),
    ],
)
def test_refused_names(name: str, plural: str | None, message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        generated_name(name, plural)
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.message
