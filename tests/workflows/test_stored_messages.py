"""`workflows.messages`: the stored format of run messages and refusals, and its one renderer.

Rendering never raises: bad params, malformed objects and broken translations have a clear
fallback, and plain text (rows older than the format, an older peer's words) is shown as it is.
"""

from __future__ import annotations

import json

import pytest
from django.utils import translation
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from workflows.messages import (
    Message,
    parse,
    render,
    stored,
    stored_text,
    stored_within,
    translatable,
    translatable_plural,
    wire_text,
)
from workflows.past_messages import PAST_MSGIDS

ZH, EN = "zh-hans", "en"


def test_a_message_is_stored_as_its_english_msgid_and_params():
    message = translatable("reused the output of run %(run)s", run=7)
    assert message.stored() == {"msgid": "reused the output of run %(run)s", "params": {"run": 7}}
    assert json.loads(stored_text(message)) == message.stored()
    assert render(stored_text(message), ZH) == "复用了运行 7 的输出"
    assert render(message.stored(), EN) == "reused the output of run 7"


def test_rendering_follows_the_active_language_when_none_is_given():
    text = stored_text(translatable("cancelled by the user"))
    with translation.override(ZH):
        chinese = render(text)
    with translation.override(EN):
        english = render(text)
    assert (chinese, english) == ("已被用户取消", "cancelled by the user")


def test_nested_messages_lists_and_lazy_labels_are_rendered_for_the_reader():
    message = translatable(
        "failed at %(component)s (%(node)s): %(reason)s%(where)s",
        component=gettext_lazy("SS-LR training"),
        node="train",
        reason=translatable("needs %(nodes)s, which did not finish", nodes=["psi", "split"]),
        where="",
    )
    # The label is stored by its msgid, not in the writer's language.
    assert message.stored()["params"]["component"] == {"msgid": "SS-LR training", "params": {}}
    assert render(message, EN) == (
        "failed at SS-LR training (train): needs psi, split, which did not finish"
    )
    chinese = render(message, ZH)
    assert "psi、split" in chinese
    assert "SS-LR training" not in chinese  # the label is Chinese too
    assert chinese.startswith("在 ")


def test_names_and_numbers_are_shown_as_they_are():
    message = translatable("%(party)s: filled %(count)s column(s)", party="银行A", count=3)
    assert render(message, EN) == "银行A: filled 3 column(s)"


@pytest.mark.parametrize(
    "legacy",
    [
        "failed at SS-LR training (train): KeyError: 'income'",
        '{"not": "a message"}',
        "{broken json",
        "",
    ],
)
def test_plain_text_is_shown_as_it_is(legacy):
    assert render(legacy, ZH) == legacy
    assert stored(legacy) == legacy


def test_a_missing_param_shows_its_placeholder_instead_of_failing():
    broken = {"msgid": "reused the output of run %(run)s", "params": {}}
    assert render(broken, EN) == "reused the output of run %(run)s"
    assert render(broken, ZH) == "复用了运行 %(run)s 的输出"


@pytest.mark.parametrize(
    ("stored_value", "expected"),
    [
        # Params that are not an object: the object is shown as JSON.
        ({"msgid": "cancelled by the user", "params": ["x"]}, None),
        # A param of an unknown shape: shown as JSON inside the sentence.
        (
            {"msgid": "internal error: %(error)s", "params": {"error": {"a": 1}}},
            '内部错误：{"a": 1}',
        ),
        # None and booleans.
        ({"msgid": "internal error: %(error)s", "params": {"error": None}}, "内部错误："),
        ({"msgid": "internal error: %(error)s", "params": {"error": True}}, "内部错误：True"),
        # A msgid that is not text is not a message: shown as its JSON.
        ({"msgid": 5, "params": {}}, '{"msgid": 5, "params": {}}'),
        # A JSON text that starts like a message but is cut.
        ('{"msgid": "cancelled by', '{"msgid": "cancelled by'),
    ],
)
def test_bad_params_and_malformed_objects_do_not_crash_rendering(stored_value, expected):
    shown = render(stored_value, ZH)
    assert isinstance(shown, str)
    if expected is None:
        assert json.loads(shown) == stored_value
    else:
        assert shown == expected


def test_nesting_too_deep_is_shown_as_json_not_followed():
    deep: dict = {"msgid": "failed: %(reason)s", "params": {"reason": "bottom"}}
    for _ in range(20):
        deep = {"msgid": "failed: %(reason)s", "params": {"reason": deep}}
    shown = render(deep, EN)
    assert shown.startswith("failed: failed: ")
    assert '"msgid"' in shown  # the rest, as JSON


def test_a_translation_that_breaks_its_placeholders_falls_back_to_english(monkeypatch):
    from workflows import messages

    monkeypatch.setattr(messages, "gettext", lambda msgid: "坏的翻译 %(nope)d")
    assert render(translatable("reused the output of run %(run)s", run=7)) == (
        "reused the output of run 7"
    )


def test_only_named_string_placeholders_may_be_stored():
    with pytest.raises(ValueError, match="placeholders"):
        translatable("%(count)d rows", count=3)
    with pytest.raises(ValueError, match="placeholders"):
        translatable("%s rows")
    assert translatable("100%% done").msgid == "100%% done"
    with pytest.raises(TypeError):
        translatable(42)  # type: ignore[arg-type]


def test_str_renders_in_the_active_language():
    message = translatable("cancelled by the user")
    with translation.override(ZH):
        assert str(message) == "已被用户取消"
        assert f"{message}" == "已被用户取消"


def test_a_message_survives_pickling_and_json():
    import pickle

    message = translatable("needs %(nodes)s, which did not finish", nodes=["a"])
    assert pickle.loads(pickle.dumps(message)) == message
    assert parse(json.loads(json.dumps(message.stored()))) == message.stored()
    assert isinstance(message, Message)


def test_a_column_too_small_for_the_json_keeps_the_english_words():
    message = translatable("internal error: %(error)s", error="x" * 600)
    kept = stored_within(message, 500)
    assert len(kept) == 500
    assert kept.startswith("internal error: xxx")
    small = translatable("cancelled by the user")
    assert parse(stored_within(small, 500)) == small.stored()


def test_the_wire_form_is_ascii_json_and_reads_back():
    message = translatable("%(peer)s started no such run on this node", peer="银行")
    text = wire_text(message)
    assert text.isascii()
    assert render(text, ZH) == "银行 没有在本节点启动这样的运行"
    assert wire_text("plain words") == "plain words"
    assert wire_text(translatable("internal error: %(error)s", error="y" * 900), 100) == (
        "internal error: " + "y" * 84
    )


@pytest.mark.parametrize(
    "msgid", ["%(run)999999999s rows", "%(run)d rows", "%s rows", "%(run)s is 100% done"]
)
def test_a_received_msgid_with_other_formats_is_shown_as_it_is_never_formatted(msgid):
    """A peer's message is not trusted to be well made: a width must not make a huge text."""
    assert render({"msgid": msgid, "params": {"run": 7}}, EN) == msgid


# ----- plural forms and contexts --------------------------------------------------------------
AT_LEAST = ("pick at least %(count)s column", "pick at least %(count)s columns")


def at_least(count) -> dict:
    return {
        "msgid": AT_LEAST[0],
        "plural": AT_LEAST[1],
        "count": "count",
        "params": {"count": count},
    }


def test_a_plural_message_keeps_both_forms_and_the_name_of_its_count():
    message = translatable_plural(*AT_LEAST, "count", count=3)
    assert message.stored() == at_least(3)
    assert parse(stored_text(message)) == at_least(3)


@pytest.mark.parametrize(
    ("count", "english", "chinese"),
    [
        (1, "pick at least 1 column", "请至少选择 1 列"),
        (3, "pick at least 3 columns", "请至少选择 3 列"),
        (0, "pick at least 0 columns", "请至少选择 0 列"),
    ],
)
def test_the_readers_language_picks_the_plural_form(count, english, chinese):
    text = stored_text(translatable_plural(*AT_LEAST, "count", count=count))
    assert (render(text, EN), render(text, ZH)) == (english, chinese)


def test_a_plural_message_nested_in_another_is_rendered_for_the_reader():
    message = translatable(
        "parameter '%(param)s': %(problem)s",
        param="features",
        problem=translatable_plural(*AT_LEAST, "count", count=1),
    )
    assert render(message.stored_text(), EN) == "parameter 'features': pick at least 1 column"
    assert render(message.stored_text(), ZH) == "参数“features”：请至少选择 1 列"


def test_a_plural_message_is_checked_where_it_is_written():
    with pytest.raises(ValueError, match="placeholders"):
        translatable_plural("%(count)d column", "%(count)s columns", "count", count=2)
    with pytest.raises(ValueError, match="placeholders"):
        translatable_plural("%(count)s column", "%s columns", "count", count=2)
    for count in (None, "2", 2.0, True):
        with pytest.raises(ValueError, match="whole number"):
            translatable_plural(*AT_LEAST, "count", count=count)
    with pytest.raises(ValueError, match="whole number"):
        translatable_plural(*AT_LEAST, "n", count=2)  # the count names no param
    # The message's own params may be called anything, even like the arguments.
    named = translatable_plural(*AT_LEAST, "msgid", msgid=2, plural="x")
    assert render(named, EN) == "pick at least %(count)s columns"


@pytest.mark.parametrize(
    "received",
    [
        at_least(2) | {"plural": 5},  # a plural that is not text
        at_least(2) | {"plural": None},
        {"msgid": AT_LEAST[0], "plural": AT_LEAST[1], "params": {"count": 2}},  # no count
        at_least(2) | {"count": "n"},  # a count naming no param
        at_least(2) | {"count": ["count"]},  # a count that is not a name
        at_least("2"),  # counts that are not whole numbers
        at_least(2.5),
        at_least(2.0),
        at_least(True),
        at_least(None),
        at_least({"msgid": "x", "params": {}}),
        at_least(2) | {"context": 7},  # a context that is not text
    ],
)
def test_a_malformed_plural_message_from_a_peer_is_shown_as_text_and_never_raises(received):
    for language in (EN, ZH):
        shown = render(received, language)
        assert json.loads(shown) == received
        assert render(json.dumps(received), language) == shown  # as a text column keeps it


@pytest.mark.parametrize(
    "plural", ["%(count)999999999s columns", "%(count)d columns", "%s columns", "100% columns"]
)
def test_a_received_plural_with_other_formats_is_shown_as_it_is_never_formatted(plural):
    received = at_least(2) | {"plural": plural}
    assert render(received, EN) == AT_LEAST[0]
    assert render(received, ZH) == AT_LEAST[0]


@pytest.mark.parametrize("count", [10**30, -1])
def test_any_whole_count_renders(count):
    assert render(at_least(count), EN) == f"pick at least {count} columns"
    assert render(at_least(count), ZH) == f"请至少选择 {count} 列"


def test_a_plural_translation_that_breaks_its_placeholders_falls_back_to_english(monkeypatch):
    from workflows import messages

    monkeypatch.setattr(messages, "ngettext", lambda one, many, n: "坏的翻译 %(nope)d")
    assert render(at_least(1)) == "pick at least 1 column"
    assert render(at_least(4)) == "pick at least 4 columns"


def test_a_label_with_a_context_keeps_it_and_reads_in_the_readers_language():
    message = translatable(
        "%(owner)s's standing policy: aggregates to others: %(decision)s",
        owner="alice",
        decision=pgettext_lazy("policy decision", "refuse"),
    )
    decision = message.stored()["params"]["decision"]
    assert decision == {"msgid": "refuse", "context": "policy decision", "params": {}}
    assert render(message.stored_text(), ZH) == "alice 的常设策略：向他方提供聚合结果：拒绝"
    assert render(message.stored_text(), EN) == (
        "alice's standing policy: aggregates to others: refuse"
    )


@pytest.mark.parametrize(
    ("msgid", "plural", "count", "params", "one", "many", "chinese"),
    [
        (
            "%(party)s: filled %(count)s column",
            "%(party)s: filled %(count)s columns",
            "count",
            {"party": "bank"},
            "bank: filled 1 column",
            "bank: filled 3 columns",
            "bank：已填充 3 列",
        ),
        (
            "trained %(epochs)s epoch; last loss %(loss)s",
            "trained %(epochs)s epochs; last loss %(loss)s",
            "epochs",
            {"loss": "0.5"},
            "trained 1 epoch; last loss 0.5",
            "trained 3 epochs; last loss 0.5",
            "已训练 3 轮；最后损失 0.5",
        ),
    ],
)
def test_counted_log_lines_agree_with_their_number_in_each_language(
    msgid, plural, count, params, one, many, chinese
):
    assert render(translatable_plural(msgid, plural, count, **params, **{count: 1}), EN) == one
    message = translatable_plural(msgid, plural, count, **params, **{count: 3})
    assert (render(message, EN), render(message, ZH)) == (many, chinese)


@pytest.mark.parametrize(
    ("stored_on_a_past_run", "chinese"),
    [
        ("%(party)s: filled %(count)s column(s)", "bank：已填充 3 列"),
        ("statistics of %(count)s column(s)", "3 列的统计"),
        ("scaled %(count)s column(s) (%(method)s)", "已缩放 3 列（standard）"),
        ("%(party)s: binned %(count)s column(s) (%(method)s)", "bank：已分箱 3 列（standard）"),
    ],
)
def test_log_lines_stored_before_the_plural_forms_still_read_in_chinese(
    stored_on_a_past_run, chinese
):
    stored = {"msgid": stored_on_a_past_run, "params": {"party": "bank", "count": 3}}
    stored["params"]["method"] = "standard"
    assert render(json.dumps(stored), ZH) == chinese


@pytest.mark.parametrize("msgid", PAST_MSGIDS)
def test_every_msgid_kept_for_past_runs_has_its_chinese(msgid):
    with translation.override(ZH):
        assert gettext(msgid) != msgid


def test_the_other_failed_nodes_are_counted_in_each_language_old_and_new():
    facts = {"component": "Scaler", "node": "scale", "reason": "boom", "where": ""}
    new = translatable_plural(
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other node "
        "failed too: %(nodes)s",
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other nodes "
        "failed too: %(nodes)s",
        "count",
        **facts,
        count=1,
        nodes=["stats"],
    )
    assert render(new, EN) == "failed at Scaler (scale): boom; 1 other node failed too: stats"
    chinese = "在 Scaler（scale）失败：boom；另有 1 个节点也失败了：stats"
    assert render(new, ZH) == chinese
    old = {  # stored on a past run
        "msgid": "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other "
        "node(s) failed too: %(nodes)s",
        "params": facts | {"count": 1, "nodes": ["stats"]},
    }
    assert render(json.dumps(old), ZH) == chinese
