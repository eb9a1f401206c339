"""Resource fields: every type, optional marks, and one-line refusals (exit 2)."""

from __future__ import annotations

import pytest

from tornado_kit.errors import BadInput
from tornado_kit.generate.fields import Field, parse_fields


def test_every_type() -> None:
    fields = parse_fields(
        ["title:str(200)", "notes:text?", "pages:int", "price:float?", "done:bool", "due:date?", "at:datetime"]
    )
    assert fields == [
        Field("title", "str", 200),
        Field("notes", "text", None, True),
        Field("pages", "int"),
        Field("price", "float", None, True),
        Field("done", "bool"),
        Field("due", "date", None, True),
        Field("at", "datetime"),
    ]
    assert [f.column_type for f in fields] == ["String(200)", "Text", "Integer", "Float", "Boolean", "Date", "DateTime"]
    assert fields[0].migration_type == "sa.String(length=200)"


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([], "at least one field"),
        (["title"], "name:TYPE"),
        (["Title:text"], "name:TYPE"),
        (["title:varchar"], "unknown type 'varchar'"),
        (["title:str"], "maximum length"),
        (["title:str(0)"], "from 1 to 10000"),
        (["title:str(20000)"], "use text"),
        (["id:int"], "reserved"),
        (["user_id:int"], "reserved"),
        (["class:int"], "reserved"),
        (["a:int", "a:text"], "given twice"),
        (["title:text\n"], "name:TYPE"),
    ],
)
def test_refused_fields(specs: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=message) as caught:
        parse_fields(specs)
    assert caught.value.exit_code == 2
    assert "\n" not in caught.value.message
