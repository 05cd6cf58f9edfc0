"""Unit tests for shared.features (Personalizer feature JSON -> VW text lines)."""

from __future__ import annotations

import enum
import json
import math
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from shared import features as F
from shared.features import (
    FeatureError,
    action_line,
    context_line,
    escape,
    examples,
    label_prefix,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "docs" / "samples" / "rank-retail-25.json"  # the 25-action retail request


def ctx(features: list[Any]) -> str:
    return context_line(features)[0]


def act(features: list[Any]) -> str:
    return action_line(features)[0]


def tokens(line: str) -> list[str]:
    return line.split(" ")


# --------------------------------------------------------------------------- escape


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("%", "%25"),
        (" ", "%20"),
        ("\t", "%09"),
        ("\n", "%0A"),
        ("\r", "%0D"),
        ("|", "%7C"),
        (":", "%3A"),
        ("a b:c|d%e", "a%20b%3Ac%7Cd%25e"),
        ("%20", "%2520"),
        ("", ""),
    ],
)
def test_escape_maps_exactly_the_special_characters(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize(
    "text",
    ["plain", "=.[]_-'\"#,;!?*", "\x0b\x0c\x00\x1c", "naïve_café", "日本語", "🙂", "\u00a0\u2028"],
)
def test_escape_passes_everything_else_through(text: str) -> None:
    assert escape(text) == text


TRICKY_STRINGS = [
    "a b",
    "100%",
    "%25 already escaped?",
    "%%%",
    "x:y|z",
    "tab\there\nnew\r\nline",
    "ünï cødé: ∑ | 🙂 %41",
    "%C3%A9",
    "+plus+",
    " leading and trailing ",
    "long " * 40 + ": | %",  # longer than the memo limit, takes the uncached path
]


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_escape_is_reversible_with_unquote(text: str) -> None:
    escaped = escape(text)
    assert unquote(escaped) == text
    for char in " \t\n\r|:":
        assert char not in escaped


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_escape_is_deterministic_cold_and_warm(text: str) -> None:
    F._CACHE.clear()
    cold = escape(text)
    warm = escape(text)
    assert cold == warm == escape(text)


def test_escape_memo_is_bounded() -> None:
    F._CACHE.clear()
    for i in range(F._CACHE_MAX + 10):
        escape(f"v{i}")
    assert len(F._CACHE) <= F._CACHE_MAX
    assert escape("v1 x") == "v1%20x"


# --------------------------------------------------------------------------- context/action lines


def test_context_line_namespaces_and_count() -> None:
    line, count = context_line(
        [
            {"user": {"tier": "gold", "visits": 12, "score": 0.25, "vip": True}},
            {"device": {"type": "mobile"}},
        ]
    )
    assert line == "shared |user tier=gold visits:12 score:0.25 vip |device type=mobile"
    assert count == 5


def test_action_line_has_no_label_and_counts() -> None:
    line, count = action_line([{"product": {"brand": "b0", "rating": 3.5, "onSale": False}}])
    assert line == "|product brand=b0 rating:3.5"
    assert count == 2


def test_docstring_example() -> None:
    assert context_line([{"user": {"tier": "gold"}}, {"hour": 20}]) == (
        "shared |user tier=gold | hour:20",
        2,
    )


@pytest.mark.parametrize(
    "features",
    [[], [{}], [{"ns": {}}], [{"ns": {"off": False, "none": None}}], [{"_hidden": {"a": "b"}}]],
)
def test_no_features(features: list[Any]) -> None:
    assert action_line(features) == ("|", 0)
    assert context_line(features) == ("shared |", 0)


def test_top_level_scalars_and_arrays_go_to_default_namespace() -> None:
    line, count = context_line(
        [{"price": 3, "color": "red", "flag": True, "off": False, "none": None, "tags": ["a", "b"]}]
    )
    assert line == "shared | price:3 color=red flag tags=a tags=b"
    assert count == 5


def test_default_namespace_merges_and_keeps_first_position() -> None:
    line, count = context_line(
        [{"price": 3}, {"user": {"a": "x"}}, {"stock": 7}, {"user": {"b": "y"}}, {"dev": {"c": 1}}]
    )
    assert line == "shared | price:3 stock:7 |user a=x b=y |dev c:1"
    assert count == 5


def test_repeated_namespace_merges_in_order() -> None:
    line, count = action_line(
        [
            {"a": {"x": "1"}, "b": {"y": "2"}},
            {"a": {"z": "3"}},
            {"c": {"w": 4}, "b": {"v": True}},
        ]
    )
    assert line == "|a x=1 z=3 |b y=2 v |c w:4"
    assert count == 5


def test_empty_namespace_is_not_written_but_others_are() -> None:
    assert act([{"a": {}}, {"b": {"x": "1"}}, {"c": {"off": False}}]) == "|b x=1"


def test_nested_objects_flatten_with_dots() -> None:
    line, count = action_line([{"p": {"a": {"b": "x", "c": {"d": 2, "e": {"f": True}}}}}])
    assert line == "|p a.b=x a.c.d:2 a.c.e.f"
    assert count == 3


def test_top_level_nested_object_is_a_namespace_with_flattened_features() -> None:
    assert act([{"geo": {"city": {"name": "Oslo"}}}]) == "|geo city.name=Oslo"


@pytest.mark.parametrize(
    ("value", "token"),
    [
        (3, "v:3"),
        (3.0, "v:3"),
        (-2, "v:-2"),
        (0.25, "v:0.25"),
        (1e-07, "v:1e-07"),
        (1e16, "v:1e+16"),
        (0.1 + 0.2, "v:0.30000000000000004"),
        (123456789, "v:123456789"),
        (-1.5e-300, "v:-1.5e-300"),
        (0, "v:0"),
        (0.0, "v:0"),
        (-0.0, "v:0"),
        (3.4e38, "v:3.4e+38"),
    ],
)
def test_number_formatting(value: float, token: str) -> None:
    assert act([{"n": {"v": value}}]) == f"|n {token}"
    assert float(token.split(":")[1]) == value


def test_float_memo_does_not_change_output() -> None:
    F._FLOATS.clear()
    first = act([{"n": {"a": 3.2, "b": 3.0, "c": -0.0, "d": 0.0}}])
    second = act([{"n": {"a": 3.2, "b": 3.0, "c": 0.0, "d": -0.0}}])
    assert first == second == "|n a:3.2 b:3 c:0 d:0"


def test_booleans_are_flags_not_numbers() -> None:
    line, count = action_line([{"n": {"t": True, "f": False, "one": 1, "zero": 0}}])
    assert line == "|n t one:1 zero:0"
    assert count == 3


def test_strings_are_one_hot_with_equals() -> None:
    assert act([{"n": {"k": "v", "empty": "", "num": "3", "eq": "a=b"}}]) == (
        "|n k=v empty= num=3 eq=a=b"
    )


def test_null_is_omitted_everywhere() -> None:
    line, count = action_line([{"n": {"a": None, "b": [None, 2], "c": {"d": None}}, "e": None}])
    assert line == "|n b[1]:2"
    assert count == 1


def test_arrays() -> None:
    line, count = action_line(
        [
            {
                "n": {
                    "tags": ["red", "big one", "x:y"],
                    "vec": [0.5, 2, -1e-07],
                    "bits": [True, False, True],
                    "objs": [{"id": "a", "w": 1}, {"id": "b", "_skip": 9}],
                    "grid": [[1, "s"], [True], []],
                    "mixed": ["s", 4, True, None, {"k": "v"}],
                }
            }
        ]
    )
    assert tokens(line) == [
        "|n",
        "tags=red",
        "tags=big%20one",
        "tags=x%3Ay",
        "vec[0]:0.5",
        "vec[1]:2",
        "vec[2]:-1e-07",
        "bits[0]",
        "bits[2]",
        "objs[0].id=a",
        "objs[0].w:1",
        "objs[1].id=b",
        "grid[0][0]:1",
        "grid[0]=s",
        "grid[1][0]",
        "mixed=s",
        "mixed[1]:4",
        "mixed[2]",
        "mixed[4].k=v",
    ]
    assert count == 18


def test_top_level_array_of_objects_and_numbers() -> None:
    assert act([{"v": [1.5, {"a": "b"}]}]) == "| v[0]:1.5 v[1].a=b"


def test_underscore_keys_are_ignored_at_every_level() -> None:
    line, count = context_line(
        [
            {
                "_meta": {"x": "y"},
                "_flag": True,
                "_": 1,
                "user": {
                    "_id": "u1",
                    "name": "n",
                    "prefs": {"_secret": "s", "color": "red"},
                    "list": [{"_a": 1, "b": 2}],
                },
                "price_": 3,
            },
            {"_other": [1, 2]},
        ]
    )
    assert line == "shared |user name=n prefs.color=red list[0].b:2 | price_:3"
    assert count == 4


def test_underscore_only_matters_as_first_character() -> None:
    assert act([{"ns": {"a_b": "c", "x": "_y"}}]) == "|ns a_b=c x=_y"


def test_special_characters_in_names_and_values_are_escaped() -> None:
    line, count = context_line(
        [
            {
                "my ns:1|%": {"key with space": "value with space", "k:1": "v|2", "p%": 1},
                "top key": "a\tb",
            }
        ]
    )
    assert line == (
        "shared |my%20ns%3A1%7C%25 key%20with%20space=value%20with%20space k%3A1=v%7C2 p%25:1"
        " | top%20key=a%09b"
    )
    assert count == 4


def test_unicode_passes_through() -> None:
    line, count = action_line([{"产品": {"颜色": "红色", "naïve": "café 🙂", "größe": 2}}])
    assert line == "|产品 颜色=红色 naïve=café%20🙂 größe:2"
    assert count == 3


def test_escaped_names_unquote_back_to_the_input() -> None:
    key, value = "k: %|\t", "v %41:|"
    line = act([{"n": {key: value}}])
    name, _, escaped_value = tokens(line)[1].partition("=")
    assert unquote(name) == key
    assert unquote(escaped_value) == value


def test_long_strings_are_escaped_like_short_ones() -> None:
    long_value = "word: " * 50
    line = act([{"n": {"k" * 100: long_value}}])
    assert line == f"|n {'k' * 100}={escape(long_value)}"
    assert " " not in tokens(line)[1]


def test_deterministic_and_cache_independent() -> None:
    features = [
        {"a": {"x": "1 2", "y": [1, 2.5], "z": {"q": True}}, "t": "top"},
        {"b": {"long": "z " * 100}},
    ]
    F._CACHE.clear()
    F._KEYS.clear()
    F._FLOATS.clear()
    cold = context_line(features)
    warm = context_line(features)
    assert cold == warm
    assert context_line(json.loads(json.dumps(features))) == cold


def test_input_is_not_mutated() -> None:
    features: list[Any] = [{"a": {"x": [1, {"b": "c"}]}}, {"a": {"y": 2}}]
    before = json.dumps(features)
    context_line(features)
    assert json.dumps(features) == before


def test_subclasses_of_json_types_are_accepted() -> None:
    class Color(enum.IntEnum):
        RED = 2

    class Size(str, enum.Enum):  # noqa: UP042 - str() differs from the value here
        BIG = "big"

    class MyFloat(float):
        pass

    line = act(
        [
            OrderedDict(
                [
                    ("n", OrderedDict([("c", Color.RED), ("s", Size.BIG), ("f", MyFloat(1.5))])),
                    ("tup", ("a", 1)),
                ]
            )
        ]
    )
    assert line == "|n c:2 s=big f:1.5 | tup=a tup[1]:1"


def test_tuple_as_feature_list_is_accepted() -> None:
    assert action_line(({"n": {"a": "b"}},)) == ("|n a=b", 1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- errors


def test_feature_error_is_a_value_error() -> None:
    assert issubclass(FeatureError, ValueError)


@pytest.mark.parametrize("element", [["a"], "ns", 3, None, True])
def test_non_object_list_elements_are_rejected(element: Any) -> None:
    with pytest.raises(FeatureError, match=r"^contextFeatures\[2\] must be a JSON object$"):
        context_line([{"a": {"b": "c"}}, {}, element])


@pytest.mark.parametrize("features", [{"a": {"b": "c"}}, "abc", None, 3])
def test_non_list_features_are_rejected(features: Any) -> None:
    with pytest.raises(FeatureError, match=r"^actions\[4\]\.features must be a JSON array$"):
        action_line(features, "actions[4].features")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize(
    ("make", "path"),
    [
        (lambda v: [{}, {"color": v}], "[1].color"),
        (lambda v: [{"p": {"color": v}}], "[0].p.color"),
        (lambda v: [{"p": {"a": {"b c": v}}}], "[0].p.a.b c"),
        (lambda v: [{"p": {"vec": [1, v]}}], "[0].p.vec[1]"),
        (lambda v: [{"p": {"o": [{"x": v}]}}], "[0].p.o[0].x"),
        (lambda v: [{"vec": [[v]]}], "[0].vec[0][0]"),
    ],
)
def test_non_finite_numbers_are_rejected_with_location(bad: float, make: Any, path: str) -> None:
    with pytest.raises(FeatureError) as info:
        action_line(make(bad), "actions[3].features")
    assert str(info.value) == f"actions[3].features{path}: numbers must be finite"


@pytest.mark.parametrize("big", [1e39, -1e300, 10**39, -(10**400)])
def test_numbers_beyond_float32_are_rejected(big: float) -> None:
    with pytest.raises(FeatureError, match=r"^contextFeatures\[0\]\.n\.x: numbers must be within"):
        context_line([{"n": {"x": big}}])


def test_empty_keys_are_rejected() -> None:
    with pytest.raises(FeatureError, match=r"^contextFeatures\[1\]: keys must not be empty$"):
        context_line([{}, {"": {"a": "b"}}])
    with pytest.raises(FeatureError, match=r"^contextFeatures\[0\]: keys must not be empty$"):
        context_line([{"": 3}])
    with pytest.raises(FeatureError, match=r"^contextFeatures\[0\]\.ns: keys must not be empty$"):
        context_line([{"ns": {"": 1}}])
    with pytest.raises(FeatureError, match=r"^contextFeatures\[0\]\.ns\.a: keys must not be"):
        context_line([{"ns": {"a": {"": 1}}}])


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(FeatureError, match=r"^x\[0\]: keys must be strings, got int$"):
        context_line([{1: {"a": "b"}}], "x")
    with pytest.raises(FeatureError, match=r"^x\[0\]\.ns\.a\[0\]: keys must be strings"):
        context_line([{"ns": {"a": [{None: 1}]}}], "x")


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", object(), 1j])
def test_unsupported_value_types_are_rejected(value: object) -> None:
    with pytest.raises(FeatureError, match=r"^contextFeatures\[0\]\.ns\.k: unsupported value"):
        context_line([{"ns": {"k": value}}])


def test_error_location_shows_raw_names() -> None:
    with pytest.raises(FeatureError) as info:
        context_line([{"my ns": {"a b:%": {"c|d": math.nan}}}])
    assert str(info.value) == "contextFeatures[0].my ns.a b:%.c|d: numbers must be finite"


def test_default_where_for_actions() -> None:
    with pytest.raises(FeatureError, match=r"^actions\[i\]\.features\[0\] must be"):
        action_line([3])


def test_error_after_earlier_valid_elements_reports_the_right_index() -> None:
    same = {"a": {"b": "c"}}
    with pytest.raises(FeatureError, match=r"^contextFeatures\[2\]\.a\.b: numbers must be"):
        context_line([same, same, {"a": {"b": math.inf}}])


# --------------------------------------------------------------------------- labels, examples


@pytest.mark.parametrize(
    ("cost", "probability", "expected"),
    [
        (0.0, 1.0, "0:0:1 "),
        (-1, 0.5, "0:-1:0.5 "),
        (1.0, 0.04, "0:1:0.04 "),
        (0.25, 1e-07, "0:0.25:1e-07 "),
        (-0.3333333333333333, 1 / 3, "0:-0.3333333333333333:0.3333333333333333 "),
        (2, 1, "0:2:1 "),
    ],
)
def test_label_prefix(cost: float, probability: float, expected: str) -> None:
    assert label_prefix(cost, probability) == expected


@pytest.mark.parametrize(
    ("cost", "probability"),
    [(math.nan, 0.5), (math.inf, 0.5), (0.0, 0.0), (0.0, 1.5), (0.0, -0.1), (0.0, math.nan)],
)
def test_label_prefix_rejects_bad_numbers(cost: float, probability: float) -> None:
    with pytest.raises(ValueError):
        label_prefix(cost, probability)


def test_examples_without_label() -> None:
    actions = ["|a x", "|a y"]
    lines = examples("shared |u z", actions)
    assert lines == ["shared |u z", "|a x", "|a y"]
    lines.append("mutated")
    assert actions == ["|a x", "|a y"]


def test_examples_with_label_on_chosen_action() -> None:
    actions = ["|a x", "|a y", "|"]
    lines = examples("shared |u z", actions, chosen=2, cost=-1.0, probability=0.25)
    assert lines == ["shared |u z", "|a x", "|a y", "0:-1:0.25 |"]
    assert actions == ["|a x", "|a y", "|"]
    assert examples("shared |", ["|a"], chosen=0) == ["shared |", "0:0:1 |a"]


@pytest.mark.parametrize("chosen", [-1, 2, 5])
def test_examples_rejects_chosen_out_of_range(chosen: int) -> None:
    with pytest.raises(ValueError, match="chosen"):
        examples("shared |", ["|a", "|b"], chosen=chosen)


# --------------------------------------------------------------------------- module hygiene


def test_module_imports_neither_vowpalwabbit_nor_azure_functions() -> None:
    code = (
        "import sys, shared.features; "
        "bad = [m for m in sys.modules if m.startswith(('vowpalwabbit', 'azure'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------- real VW round trip


def _sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return data


TRICKY_CONTEXT: list[Any] = [
    {"user": {"name": "Zoë O'Brien", "tier": "gold|vip", "ratio": 0.5, "ok": True}},
    {"user": {"tags": ["a b", "c:d", "100%"], "vec": [1, 2.5, -3]}},
    {"日本": {"都市": "東京"}, "price": 3, "labels": ["x", "y"]},
    {"a b:c": {"nested": {"deep": [{"k": "v w"}, [True, 4]]}}},
    {"_ignored": {"x": 1}, "s": "top level"},
]
TRICKY_ACTIONS: list[list[Any]] = [
    [{"item": {"id": "X", "price": 9.99, "cat": "shoes & bags"}}],
    [{"item": {"id": "Y|Z", "price": 1e-05, "flags": [True, False]}}, {"item": {"more": "m"}}],
    [],
    [{"ítem": {"id": "🙂", "sizes": [36, 37.5]}}],
]


def _vw_feature_counts(vw: Any, lines: list[str]) -> list[tuple[list[int], int]]:
    """(namespace indices, feature count) per line as VW parsed it, constant namespace excluded."""
    parsed = vw.parse(lines)
    try:
        out = []
        for example in parsed:
            spaces = [example.namespace(i) for i in range(example.num_namespaces())]
            kept = [i for i, ns in enumerate(spaces) if ns != 128]
            count = sum(example.num_features_in(i) for i in kept)
            out.append(([spaces[i] for i in kept], count))
        return out
    finally:
        vw.finish_example(parsed)


def test_vw_parses_exactly_the_features_we_count() -> None:
    vowpalwabbit = pytest.importorskip("vowpalwabbit")
    vw = vowpalwabbit.Workspace("--cb_explore_adf --quiet -q ::")
    try:
        context, context_count = context_line(TRICKY_CONTEXT)
        built = [action_line(features) for features in TRICKY_ACTIONS]
        lines = examples(context, [line for line, _ in built])
        parsed = _vw_feature_counts(vw, lines)
        assert parsed[0][1] == context_count
        assert [count for _, count in parsed[1:]] == [count for _, count in built]
        # namespace index = first byte of the escaped name; " " for the default namespace
        assert parsed[0][0] == [ord("u"), "日".encode()[0], ord(" "), ord("a")]
        assert parsed[2][0] == [ord("i")]
        assert parsed[3][0] == []
    finally:
        vw.finish()


def test_vw_round_trip_on_sample_request() -> None:
    vowpalwabbit = pytest.importorskip("vowpalwabbit")
    request = _sample()
    context, context_count = context_line(request["contextFeatures"])
    actions = [
        action_line(a["features"], f"actions[{i}].features")[0]
        for i, a in enumerate(request["actions"])
    ]
    assert context_count > 0
    assert len(actions) == 25
    vw = vowpalwabbit.Workspace("--cb_explore_adf --quiet -q ::")
    try:
        pmf = vw.predict(examples(context, actions))
        assert len(pmf) == 25
        assert math.isclose(sum(pmf), 1.0, rel_tol=1e-5)
        vw.learn(examples(context, actions, chosen=3, cost=-1.0, probability=pmf[3]))
        pmf = vw.predict(examples(context, actions))
        assert len(pmf) == 25
        assert max(range(25), key=lambda i: pmf[i]) == 3
    finally:
        vw.finish()


def test_vw_round_trip_on_tricky_input() -> None:
    vowpalwabbit = pytest.importorskip("vowpalwabbit")
    context = context_line(TRICKY_CONTEXT)[0]
    actions = [action_line(features)[0] for features in TRICKY_ACTIONS]
    vw = vowpalwabbit.Workspace("--cb_explore_adf --quiet -q ::")
    try:
        for step in range(20):
            pmf = vw.predict(examples(context, actions))
            assert len(pmf) == len(actions)
            assert all(p >= 0 for p in pmf)
            chosen = step % len(actions)
            cost = -1.0 if chosen == 1 else 0.0
            vw.learn(examples(context, actions, chosen, cost, pmf[chosen]))
        pmf = vw.predict(examples(context, actions))
        assert max(range(len(actions)), key=lambda i: pmf[i]) == 1
    finally:
        vw.finish()


def _train_crossing(args: str, action_namespace: str = "item") -> tuple[int, int]:
    """Action X is good (cost -1) for context u=1 and bad (cost 0) for u=2; Y the opposite.
    Returns the greedy action index for each context after training."""
    vowpalwabbit = pytest.importorskip("vowpalwabbit")
    contexts = {u: context_line([{"user": {"u": u}}])[0] for u in ("1", "2")}
    actions = [action_line([{action_namespace: {"id": name}}])[0] for name in ("X", "Y")]
    good = {"1": 0, "2": 1}
    vw = vowpalwabbit.Workspace(args)
    try:
        for step in range(400):
            u = "1" if step % 2 == 0 else "2"
            chosen = (step // 2) % 2  # uniform logging policy over both actions
            cost = -1.0 if chosen == good[u] else 0.0
            vw.learn(examples(contexts[u], actions, chosen, cost, 0.5))
        best = []
        for u in ("1", "2"):
            pmf = vw.predict(examples(contexts[u], actions))
            assert len(pmf) == 2
            best.append(max(range(2), key=lambda i: pmf[i]))
        return best[0], best[1]
    finally:
        vw.finish()


def test_vw_namespaces_cross_with_q() -> None:
    assert _train_crossing("--cb_explore_adf --quiet -q ::") == (0, 1)


def test_vw_without_interactions_cannot_tell_contexts_apart() -> None:
    first, second = _train_crossing("--cb_explore_adf --quiet")
    assert first == second


def test_vw_wildcard_skips_namespaces_whose_first_byte_is_not_ascii() -> None:
    """Documents VW 9 behaviour callers should know: ``-q ::`` only expands to printable ASCII
    namespace indices, so an action namespace named e.g. ``ítem`` is never crossed."""
    first, second = _train_crossing("--cb_explore_adf --quiet -q ::", action_namespace="ítem")
    assert first == second
