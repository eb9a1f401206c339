"""Generator names: checked before anything is written, with their English plural and class-name forms."""

from __future__ import annotations

import keyword
import re
from typing import NamedTuple

from tornado_kit.errors import BadInput

_NAME = re.compile(r"[a-z][a-z0-9_]*")  # fullmatch: no trailing newline
MAX_NAME_LENGTH = 40

# Names the generated code or the project already uses for something else.
RESERVED = frozenset(
    {
        "api",
        "app",
        "base",
        "db",
        "handlers",
        "settings",
        "security",
        "services",
        "static",
        "tables",
        "templates",
        "tests",
        "migrations",
        "urls",
        "ws",
    }
)
_IRREGULAR = {
    "person": "people",
    "child": "children",
    "man": "men",
    "woman": "women",
    "mouse": "mice",
    "goose": "geese",
    "tooth": "teeth",
    "foot": "feet",
    "ox": "oxen",
    "leaf": "leaves",
    "knife": "knives",
    "life": "lives",
    "wife": "wives",
    "half": "halves",
    "shelf": "shelves",
    "wolf": "wolves",
    "thief": "thieves",
    "cactus": "cacti",
    "analysis": "analyses",
    "crisis": "crises",
    "criterion": "criteria",
    "index": "indices",
    "matrix": "matrices",
    "quiz": "quizzes",
}
_UNCOUNTABLE = frozenset({"sheep", "fish", "deer", "series", "species", "news", "data", "equipment", "information"})
_ES_AFTER_O = frozenset({"hero", "potato", "tomato", "echo", "veto", "torpedo"})


class GeneratedName(NamedTuple):
    """One checked NAME and the forms the generated code uses."""

    singular: str  # book, blog_post
    plural: str  # books, blog_posts
    class_name: str  # Book, BlogPost
    plural_class: str  # Books, BlogPosts

    @property
    def slug(self) -> str:
        """The singular as it appears in a URL or route name (blog-post)."""
        return self.singular.replace("_", "-")

    @property
    def plural_slug(self) -> str:
        """The plural as it appears in a URL or route name (blog-posts)."""
        return self.plural.replace("_", "-")

    @property
    def title(self) -> str:
        """The singular for people to read (Blog post)."""
        return self.singular.replace("_", " ").capitalize()

    @property
    def plural_title(self) -> str:
        """The plural for people to read (Blog posts)."""
        return self.plural.replace("_", " ").capitalize()


def pluralize(word: str) -> str:
    """The English plural of a snake_case name (only its last word changes)."""
    head, _, last = word.rpartition("_")
    prefix = f"{head}_" if head else ""
    return prefix + _plural_word(last)


def _plural_word(word: str) -> str:
    if word in _UNCOUNTABLE:
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word in _ES_AFTER_O:
        return word + "es"
    return word + "s"


def check_identifier(name: str, what: str) -> None:
    """Raise BadInput unless `name` is a lower-case identifier that is not a keyword or a reserved name."""
    if not _NAME.fullmatch(name):
        raise BadInput(f"invalid {what} {name!r}: use lower-case letters, digits and '_', starting with a letter")
    if len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"invalid {what} {name!r}: at most {MAX_NAME_LENGTH} characters")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise BadInput(f"invalid {what} {name!r}: it is a Python keyword")
    if name in RESERVED or name.endswith("_") or "__" in name:
        raise BadInput(f"invalid {what} {name!r}: the project already uses that name; pick another")


def generated_name(name: str, plural: str | None = None) -> GeneratedName:
    """Check NAME (and --plural) and derive every form; BadInput (exit 2) with one line otherwise."""
    check_identifier(name, "name")
    plural = plural if plural is not None else pluralize(name)
    check_identifier(plural, "plural")
    if plural == name:
        raise BadInput(f"the plural of {name!r} is the same word; give a different one with --plural")
    return GeneratedName(name, plural, _camel(name), _camel(plural))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
