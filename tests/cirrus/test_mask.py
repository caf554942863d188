"""X-Fields masks of the Cirrus 2 face (polycrm/faces/cirrus/mask.py)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from polycrm.faces.cirrus.mask import (
    EVERYTHING,
    MAX_DEPTH,
    Mask,
    MaskError,
    apply_mask,
    parse_mask,
)

# Pure functions, no database: keep the examples modest so the module stays fast.
PROPERTY = settings(max_examples=40, deadline=None, database=None)

ACCOUNT = {
    "id": 7,
    "name": "Acme",
    "email": None,
    "addresses": {
        "visiting": {"street": "Main 1", "city": "Aarhus", "zip": "8000"},
        "postal": None,
    },
    "contacts": [{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}],
}


def masked(data, text, **kw):
    return apply_mask(data, parse_mask(text), **kw)


# --- parsing ---------------------------------------------------------------


def test_parse_nested_mask_structure():
    mask = parse_mask("{id,name,addresses{visiting{city,zip}}}")
    assert mask == Mask(
        fields=(
            ("id", None),
            ("name", None),
            ("addresses", Mask(fields=(("visiting", Mask(fields=(("city", None), ("zip", None)))),))),
        )
    )
    assert str(mask) == "{id,name,addresses{visiting{city,zip}}}"


@pytest.mark.parametrize(
    "text",
    [
        "id,name,addresses{visiting{city,zip}}",
        " { id , name,\n addresses { visiting {city,\tzip} } } ",
        "{id,name,addresses{visiting{city,zip,},},}",
    ],
)
def test_outer_braces_whitespace_and_trailing_commas_are_optional(text):
    assert parse_mask(text) == parse_mask("{id,name,addresses{visiting{city,zip}}}")


def test_names_may_hold_colon_dash_and_underscore():
    assert parse_mask("field:name,field-name,field_name,Navn2") == Mask(
        fields=(("field:name", None), ("field-name", None), ("field_name", None), ("Navn2", None))
    )


def test_whitespace_separates_names_like_a_comma():
    assert parse_mask("{id name}") == parse_mask("{id,name}")
    assert parse_mask("a{b}c") == parse_mask("a{b},c")


def test_star_sets_the_wildcard_at_its_level():
    mask = parse_mask("{name,contacts{*},*}")
    assert mask.wildcard
    assert mask.fields == (("name", None), ("contacts", EVERYTHING))


def test_blank_mask_selects_everything():
    for text in ("", "   ", "\n", "*", "{*}", "{ * }"):
        assert parse_mask(text) == EVERYTHING
        assert parse_mask(text).selects_everything


def test_empty_braces_select_nothing():
    assert parse_mask("{}") == Mask()
    assert masked(ACCOUNT, "{}") == {}


def test_a_relisted_field_replaces_its_earlier_definition():
    assert parse_mask("{a{b},c,a}") == Mask(fields=(("a", None), ("c", None)))
    assert parse_mask("{a,a{b}}") == Mask(fields=(("a", Mask(fields=(("b", None),))),))


def test_parsed_masks_are_cached_and_immutable():
    assert parse_mask("{id,name}") is parse_mask("{id,name}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_mask("{id,name}").wildcard = True
    assert hash(parse_mask("{id,name}")) == hash(Mask(fields=(("id", None), ("name", None))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "Mask parse error: Missing closing bracket"),
        ("{id,name", "Mask parse error: Missing closing bracket"),
        ("addresses{visiting{city}", "Mask parse error: Missing closing bracket"),
        ("{id},name", "Mask parse error: Missing closing bracket"),
        ("}", "Mask parse error: Unexpected closing bracket"),
        ("{id}}", "Mask parse error: Unexpected closing bracket"),
        ("id}", "Mask parse error: Unexpected closing bracket"),
        ("{{id}}", "Mask parse error: Unexpected opening bracket"),
        ("id,{name}", "Mask parse error: Unexpected opening bracket"),
        ("a{b}{c}", "Mask parse error: Unexpected opening bracket"),
        ("*{id}", "Mask parse error: Unexpected opening bracket"),
        ("{,id}", "Mask parse error: Unexpected comma"),
        ("id,,name", "Mask parse error: Unexpected comma"),
        ("a{,b}", "Mask parse error: Unexpected comma"),
        (",", "Mask parse error: Unexpected comma"),
        ("a{}", "Mask parse error: Empty nested mask for field 'a'"),
        ("{id,addresses{visiting{ }}}", "Mask parse error: Empty nested mask for field 'visiting'"),
        ("{id;name}", "Mask parse error: Unexpected character ';'"),
        ("addresses.city", "Mask parse error: Unexpected character '.'"),
        ("{id,'name'}", "Mask parse error: Unexpected character \"'\""),
        ("{id(name)}", "Mask parse error: Unexpected character '('"),
    ],
)
def test_malformed_masks_raise_flask_restx_style_errors(text, message):
    with pytest.raises(MaskError) as caught:
        parse_mask(text)
    assert caught.value.message == message
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_nesting_depth_is_bounded():
    deepest = "a{" * MAX_DEPTH + "b" + "}" * MAX_DEPTH
    assert str(parse_mask(deepest)) == "{" + deepest + "}"
    with pytest.raises(MaskError) as caught:
        parse_mask("a{" + deepest + "}")
    assert caught.value.message == f"Mask parse error: Mask is nested deeper than {MAX_DEPTH} levels"


# --- applying ----------------------------------------------------------------


def test_keeps_listed_fields_in_mask_order():
    result = masked(ACCOUNT, "{name,id}")
    assert result == {"name": "Acme", "id": 7}
    assert list(result) == ["name", "id"]


def test_nested_masks_reach_into_dicts():
    assert masked(ACCOUNT, "{id,addresses{visiting{city,zip}}}") == {
        "id": 7,
        "addresses": {"visiting": {"city": "Aarhus", "zip": "8000"}},
    }


def test_nested_mask_applies_to_each_list_element():
    assert masked(ACCOUNT, "contacts{name}") == {"contacts": [{"name": "Ann"}, {"name": "Bo"}]}


def test_nested_mask_on_null_gives_null():
    assert masked(ACCOUNT, "{email{x},addresses{postal{city}}}") == {
        "email": None,
        "addresses": {"postal": None},
    }
    assert masked({"contacts": [None, {"id": 1, "name": "Ann"}]}, "contacts{id}") == {
        "contacts": [None, {"id": 1}]
    }


def test_missing_field_comes_back_as_null():
    assert masked(ACCOUNT, "{id,nope,addresses{invoice{city}}}") == {
        "id": 7,
        "nope": None,
        "addresses": {"invoice": None},
    }


def test_skip_missing_leaves_missing_fields_out():
    assert masked(ACCOUNT, "{id,nope,email,addresses{invoice{city}}}", skip_missing=True) == {
        "id": 7,
        "email": None,
        "addresses": {},
    }


def test_star_keeps_the_other_fields_after_the_listed_ones():
    result = masked(ACCOUNT, "{*,contacts{id},name}")
    assert result == {**ACCOUNT, "contacts": [{"id": 1}, {"id": 2}]}
    assert list(result) == ["contacts", "name", "id", "email", "addresses"]


def test_nested_star_keeps_the_value_whole():
    assert masked(ACCOUNT, "{id{*},email{*},addresses{*}}") == {
        "id": 7,
        "email": None,
        "addresses": ACCOUNT["addresses"],
    }
    assert masked("text", "{*}") == "text"


def test_top_level_list_and_null():
    assert masked([ACCOUNT, ACCOUNT], "id") == [{"id": 7}, {"id": 7}]
    assert masked(None, "{id}") is None
    assert masked((ACCOUNT,), "id") == [{"id": 7}]


def test_paginated_envelope():
    page = {"page": 1, "pages": 1, "per_page": 10, "total": 1, "items": [ACCOUNT]}
    assert masked(page, "{total,items{id,name}}") == {"total": 1, "items": [{"id": 7, "name": "Acme"}]}


def test_input_is_left_untouched():
    before = repr(ACCOUNT)
    masked(ACCOUNT, "{id,addresses{visiting{city}},*}")
    assert repr(ACCOUNT) == before


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (ACCOUNT, "{name{first}}"),
        (ACCOUNT, "{id{x}}"),
        ({"tags": ["a", "b"]}, "tags{name}"),
        (42, "{id}"),
        ("text", "{id}"),
    ],
)
def test_nested_mask_on_a_scalar_is_inconsistent(data, text):
    with pytest.raises(MaskError) as caught:
        masked(data, text)
    assert caught.value.message == "Mask error: Mask is inconsistent with model"


# --- properties ----------------------------------------------------------------

NAMES = st.sampled_from(["id", "name", "a", "b", "c", "x-y", "k:v", "items"])
SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=4)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=8,
)
RECORDS = st.dictionaries(NAMES, JSON, max_size=5)
DATA = st.none() | RECORDS | st.lists(RECORDS, max_size=3)

# A mask tree: ([(name, subtree | None), ...], wildcard); every level lists a name.
MASK_TREES = st.recursive(
    st.tuples(st.lists(st.tuples(NAMES, st.none()), min_size=1, max_size=4), st.booleans()),
    lambda inner: st.tuples(
        st.lists(st.tuples(NAMES, st.none() | inner), min_size=1, max_size=4), st.booleans()
    ),
    max_leaves=8,
)


def render(tree, space: str = "") -> str:
    fields, wildcard = tree
    parts = [name + ("" if sub is None else render(sub, space)) for name, sub in fields]
    if wildcard:
        parts.append("*")
    return "{" + space + ("," + space).join(parts) + space + "}"


def mask_of(record: dict) -> str:
    """A mask listing every key of ``record``, recursing into non-empty dicts."""
    parts = [
        key + (mask_of(value) if isinstance(value, dict) and value else "") for key, value in record.items()
    ]
    return "{" + ",".join(parts) + "}"


def masked_or_reject(data, mask, **kw):
    try:
        return apply_mask(data, mask, **kw)
    except MaskError:
        assume(False)


@PROPERTY
@given(DATA)
def test_star_mask_returns_the_data(data):
    for text in ("{*}", "*", ""):
        assert masked(data, text) == data


@PROPERTY
@given(RECORDS)
def test_mask_of_a_records_own_keys_returns_the_record(record):
    result = masked(record, mask_of(record))
    assert result == record
    assert list(result) == list(record)


@PROPERTY
@given(RECORDS, st.data())
def test_listed_keys_plus_star_returns_the_record_listed_first(record, draw):
    listed = draw.draw(st.lists(st.sampled_from(sorted(record)), unique=True) if record else st.just([]))
    result = masked(record, "{" + ",".join([*listed, "*"]) + "}")
    assert result == record
    assert list(result) == listed + [key for key in record if key not in listed]


@PROPERTY
@given(DATA, MASK_TREES, st.booleans())
def test_masking_is_idempotent(data, tree, skip_missing):
    mask = parse_mask(render(tree))
    once = masked_or_reject(data, mask, skip_missing=skip_missing)
    twice = apply_mask(once, mask, skip_missing=skip_missing)
    assert twice == once
    if isinstance(once, dict):
        assert list(twice) == list(once)


@PROPERTY
@given(RECORDS, MASK_TREES)
def test_output_keys_are_the_listed_names(record, tree):
    mask = parse_mask(render(tree))
    listed = [name for name, _ in mask.fields]
    result = masked_or_reject(record, mask)
    extra = [key for key in record if key not in listed] if mask.wildcard else []
    assert list(result) == listed + extra
    present = masked_or_reject(record, mask, skip_missing=True)
    assert list(present) == [name for name in listed if name in record] + extra


@PROPERTY
@given(st.lists(RECORDS, max_size=4), MASK_TREES)
def test_a_list_is_masked_element_by_element(records, tree):
    mask = parse_mask(render(tree))
    try:
        expected = [apply_mask(record, mask) for record in records]
    except MaskError:
        assume(False)
    assert apply_mask(records, mask) == expected


@PROPERTY
@given(MASK_TREES, st.sampled_from(["", " ", "\n ", "\t"]), st.booleans())
def test_rendering_round_trips(tree, space, outer_braces):
    text = render(tree, space)
    if not outer_braces:
        text = text[1:-1]
    mask = parse_mask(text)
    assert parse_mask(str(mask)) == mask
    assert str(mask) == str(parse_mask(render(tree)))


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet="{},* \n\tab.;", max_size=14))
def test_any_text_parses_or_raises_a_parse_error(text):
    try:
        mask = parse_mask(text)
    except MaskError as error:
        assert error.message.startswith("Mask parse error: ")
    else:
        assert parse_mask(str(mask)) == mask
