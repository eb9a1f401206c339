"""The URL-map editor: additions keep every other byte; odd but editable shapes work; others are refused."""

from __future__ import annotations

import textwrap

import pytest

from tornado_kit.generate.urlmap import UrlMapShape, add_to_url_map, read_url_map, remove_from_url_map

IMPORT = "from .handlers.about import AboutHandler"
ROUTE = 'url(r"/about", AboutHandler, name="about")'

USUAL = textwrap.dedent(
    '''\
    """My routes."""  # the user's own comment

    from tornado.web import url

    from .handlers.pages import HomeHandler  # keep me
    from .handlers.zebra import ZebraHandler


    def url_patterns(services: object) -> list[object]:
        deps = {"services": services}
        return [
            url(r"/", HomeHandler, deps, name="home"),  # home page
            # a comment between routes
            url(  r"/zebra", ZebraHandler, name="zebra" ),
        ]
    '''
)


def roundtrip(source: str) -> str:
    added = add_to_url_map(source, [IMPORT], [ROUTE])
    assert read_url_map(added).paths >= {"/about"}
    removed, missing = remove_from_url_map(added, [IMPORT], [ROUTE])
    assert missing == []
    # the one byte not put back: a trailing comma the addition gave the user's last route
    assert removed in (source, source.replace('name="a")\n    ]', 'name="a"),\n    ]'))
    return added


def test_usual_shape_keeps_comments_and_formatting() -> None:
    added = roundtrip(USUAL)
    assert added == USUAL.replace(
        "from .handlers.pages import HomeHandler  # keep me\n",
        "from .handlers.about import AboutHandler\nfrom .handlers.pages import HomeHandler  # keep me\n",
    ).replace('name="zebra" ),\n', 'name="zebra" ),\n        url(r"/about", AboutHandler, name="about"),\n')
    assert read_url_map(USUAL).deps == "deps"


@pytest.mark.parametrize(
    "source",
    [
        # no trailing comma after the last route
        (
            "from tornado.web import url\nfrom .a import A\n\ndef url_patterns():\n    return [\n"
            '        url(r"/", A, name="a")\n    ]\n'
        ),
        # the list closes on the last route's line
        'from tornado.web import url\nfrom .a import A\n\ndef url_patterns():\n    return [url(r"/", A, name="a")]\n',
        # a variable returned at the end, a trailing comment, CRLF-free unicode
        (
            "from tornado.web import url\nfrom .a import A\n\n\ndef url_patterns():\n    routes = [\n"
            '        url(r"/é", A, name="a"),  # ünïcode\n    ]\n    return routes\n'
        ),
        # routes spread over several lines
        (
            "from tornado.web import url\nfrom .a import A\n\ndef url_patterns():\n    return [\n"
            '        url(\n            r"/",\n            A,\n            name="a",\n        ),\n'
            "    ]\n"
        ),
    ],
)
def test_odd_but_editable_shapes(source: str) -> None:
    roundtrip(source)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("x = 1\n", "no module-level url_patterns"),
        ("def url_patterns():\n    return base() + extra()\n", "list literal"),
        ("def url_patterns():\n    if x:\n        return []\n    return [url('/', A)]\n", "one `return"),
        ("def url_patterns():\n    return [*more, url('/', A)]\n", "other than url"),
        ("def url_patterns(:\n", "does not parse"),
    ],
)
def test_uneditable_shapes_list_the_lines_to_add(source: str, reason: str) -> None:
    with pytest.raises(UrlMapShape, match=reason) as caught:
        add_to_url_map(source, [IMPORT], [ROUTE])
    assert caught.value.exit_code == 1
    assert IMPORT in caught.value.message
    assert ROUTE + "," in caught.value.message


def test_removal_survives_reformatting_and_reports_what_is_gone() -> None:
    added = add_to_url_map(USUAL, [IMPORT], [ROUTE]).replace(ROUTE, "url(r'/about', AboutHandler, name='about')")
    removed, missing = remove_from_url_map(added, [IMPORT, "from .gone import Gone"], [ROUTE])
    assert removed == USUAL
    assert missing == ["from .gone import Gone"]
