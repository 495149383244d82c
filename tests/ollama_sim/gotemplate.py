# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Go's text/template parser, as far as Ollama's ``template.Parse`` (template/template.go) needs
it to refuse a template: the errors of text/template/parse (lex.go, parse.go), with their text.

Ollama parses a model's TEMPLATE with ``template.New("").Option("missingkey=zero").Funcs(funcs).Parse(s)``;
a failure becomes ``template error: <err>`` (server/create.go setTemplate, errBadTemplate), 400.
Checked here: actions left open (``unclosed action``), ``{{end}}`` and ``{{else}}`` with no
block (``unexpected {{end}}``), blocks never closed (``unexpected EOF``), a function that is
neither a builtin nor one of Ollama's (``function "x" not defined``), and a bad comment.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

# text/template's builtins (funcs.go) and Ollama's own template functions (template/template.go funcs)
FUNCTIONS = frozenset(
    (
        "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery",
        "eq", "ge", "gt", "le", "lt", "ne",
        "json", "currentDate", "yesterdayDate", "toTypeScriptType",
    )
)  # fmt: skip
BLOCKS = frozenset(("if", "range", "with", "block", "define", "while"))
KEYWORDS = frozenset(("else", "end", "nil", "true", "false", "break", "continue", "template"))
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A template text/template would refuse; the message is Go's."""


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _actions(text: str) -> List[Tuple[int, str]]:
    """(offset, inner text with trim markers removed) of every action; raises for an unclosed one."""
    found = []
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            return found
        inner_start = start + 2
        if text.startswith("- ", inner_start):
            inner_start += 2
        end = _find_close(text, inner_start)
        if end is None:
            raise TemplateError("template: :%d: unclosed action" % _line(text, start))
        inner = text[inner_start:end]
        if inner.endswith(" -"):
            inner = inner[:-2]
        found.append((start, inner.strip()))
        pos = end + 2


def _find_close(text: str, pos: int) -> Optional[int]:
    """The offset of the ``}}`` closing an action, skipping quoted strings; None if there is none."""
    quote = ""
    index = pos
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\" and quote != "`":
                index += 2
                continue
            if char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif text.startswith("}}", index):
            return index
        index += 1
    return None


def parse(text: str) -> None:
    """Raise TemplateError with Go's message when text/template would refuse ``text``."""
    stack: List[str] = []
    for offset, inner in _actions(text):
        line = _line(text, offset)
        if inner.startswith("/*"):
            if not inner.endswith("*/"):
                raise TemplateError("template: :%d: unclosed comment" % line)
            continue
        word_match = _IDENT.match(inner)
        word = word_match.group(0) if word_match else ""
        if word == "end":
            if not stack:
                raise TemplateError("template: :%d: unexpected {{end}}" % line)
            stack.pop()
            continue
        if word == "else":
            if not stack or stack[-1] not in ("if", "range", "with"):
                raise TemplateError("template: :%d: unexpected {{else}}" % line)
            continue
        arguments = inner
        if word in BLOCKS:
            stack.append(word)
            arguments = inner[len(word) :]
        for name in re.findall(r"(?:^|[\s(|])([A-Za-z_][A-Za-z0-9_]*)(?=$|[\s)|])", _strip_strings(arguments)):
            if name in FUNCTIONS or name in KEYWORDS or name in BLOCKS:
                continue
            raise TemplateError('template: :%d: function "%s" not defined' % (line, name))
    if stack:
        raise TemplateError("template: :%d: unexpected EOF" % _line(text, len(text)))


def _strip_strings(inner: str) -> str:
    """The action without its quoted strings, fields (.Name, $x.Name) and variables ($x)."""
    inner = re.sub(r'"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])*\'', " ", inner)
    inner = re.sub(r"\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*", " ", inner)
    inner = re.sub(r"\.[A-Za-z0-9_.]*", " ", inner)
    inner = re.sub(r"\b\d+(?:\.\d+)?\b", " ", inner)
    return inner.replace(":=", " ").replace("=", " ").replace(",", " ")
