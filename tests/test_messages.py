"""The message catalogue: every code in both languages with the same parameters, and every core error raised
with a catalogue code (never with English text) – checked over the source of the whole package."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperlink.errors import PaperlinkError
from paperlink.messages import MESSAGES, render

PACKAGE = Path(__file__).resolve().parents[1] / "paperlink"

STILL_BEING_CONVERTED: set[str] = set()
"""Modules whose errors are still being turned into codes: none (every core error is raised with a catalogue code)."""


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_code_has_an_english_and_a_japanese_text_with_the_same_parameters(code: str) -> None:
    en, ja = MESSAGES[code]
    assert en.strip() and ja.strip(), code
    assert " " not in code and code == code.lower(), code
    assert placeholders(en) == placeholders(ja), code
    assert not ja.isascii(), f"{code}: the Japanese text is not Japanese"
    params = {name: f"<{name}>" for name in placeholders(en)}
    for lang in ("en", "ja"):
        rendered = render(code, params, lang)
        assert all(f"<{name}>" in rendered for name in params), (code, lang)


def test_an_uncatalogued_code_renders_as_itself() -> None:
    assert render("no such code here", {}, "ja") == "no such code here"
    assert str(PaperlinkError("key_missing", dir="/k")) == "no signing key in /k: run 'paperlink keys init' first"
    assert PaperlinkError("key_missing", dir="/k").message_ja.startswith("/k に署名鍵がありません")


# -- the source: every core error is raised with a catalogue code ------------------------------------


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).with_suffix("")
        yield ".".join(relative.parts), ast.parse(path.read_text("utf-8"), str(path))


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _error_classes(modules: list[tuple[str, ast.Module]]) -> set[str]:
    """The names of PaperlinkError and every class that derives from it anywhere in the package."""
    found = {"PaperlinkError"}
    while True:
        more = {node.name for _, tree in modules for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                and any(_name(base) in found for base in node.bases)} - found
        if not more:
            return found
        found |= more


def _is_text(node: ast.expr) -> bool:
    """A literal, an f-string or a concatenation of them: text where a code belongs."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    return isinstance(node, ast.BinOp) and (_is_text(node.left) or _is_text(node.right))


def _error_calls(tree: ast.Module, classes: set[str]) -> Iterator[ast.Call]:
    """Calls that build a core error: `SomeError(...)`, and `super().__init__(...)` inside such a class."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in classes:
            yield node
        if isinstance(node, ast.ClassDef) and any(_name(base) in classes for base in node.bases):
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "__init__"
                        and isinstance(call.func.value, ast.Call) and _name(call.func.value.func) == "super"):
                    yield call


def _problems(module: str, tree: ast.Module, classes: set[str]) -> Iterator[str]:
    for call in _error_calls(tree, classes):
        if not call.args or not _is_text(call.args[0]):
            continue  # built from a variable (a code passed on) or from a list of problems
        where = f"paperlink/{module.replace('.', '/')}.py:{call.lineno}"
        first = call.args[0]
        if not isinstance(first, ast.Constant):
            yield f"{where}: message text instead of a code"
            continue
        code = first.value
        if code not in MESSAGES:
            yield f"{where}: {code!r} is not a code of paperlink.messages.MESSAGES"
            continue
        if any(keyword.arg is None for keyword in call.keywords):
            continue  # **params: the names cannot be checked here
        given = {keyword.arg for keyword in call.keywords if keyword.arg is not None}
        if given != placeholders(MESSAGES[code][0]):
            yield f"{where}: {code} takes {sorted(placeholders(MESSAGES[code][0]))}, given {sorted(given)}"


def test_every_core_error_is_raised_with_a_catalogue_code_and_its_parameters() -> None:
    modules = list(_modules())
    classes = _error_classes(modules)
    assert {"PayloadError", "UnknownKey", "ScanInputError", "KeyMissing", "HomeError"} <= classes
    problems = [problem for module, tree in modules
                if module.split(".")[0] not in STILL_BEING_CONVERTED
                for problem in _problems(module, tree, classes)]
    assert problems == []


def test_the_source_check_finds_english_text() -> None:
    """The check itself: an f-string, a sentence, an unknown code and a missing parameter are all found."""
    tree = ast.parse('class OwnError(PaperlinkError):\n'
                     '    def __init__(self) -> None:\n'
                     '        super().__init__("no such thing")\n'
                     'raise KeyMissing(f"no signing key in {where}")\n'
                     'raise KeyMissing("key_missing")\n'
                     'raise KeyMissing("key_missing", dir=where)\n'
                     'raise OwnError()\n')
    classes = _error_classes([("sample", tree)]) | {"KeyMissing"}
    found = sorted(_problems("sample", tree, classes))
    assert [line.split(": ")[0] for line in found] == [f"paperlink/sample.py:{n}" for n in (3, 4, 5)], found


def test_nested_errors_and_states_are_worded_in_the_message_language() -> None:
    """A nested error and a notice state are parameters that word themselves: no English inside a Japanese message."""
    import pickle

    from paperlink.confirm import WorkflowError
    from paperlink.ledger import NoticeState

    nested = WorkflowError("workflow_override_broken", detail=WorkflowError("workflow_entry_missing"))
    assert nested.message_ja.endswith("（入力が見つかりません）") and str(nested).endswith("(the entry was not found)")
    state = WorkflowError("workflow_not_confirmable", notice_id="N1", state=NoticeState.DONE)
    assert "完了" in state.message_ja and "done" not in state.message_ja and "(done)" in str(state)
    assert state.params == {"notice_id": "N1", "state": "done"}
    assert pickle.loads(pickle.dumps(nested)).message_ja == nested.message_ja
