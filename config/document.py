"""YAML text -> plain data that remembers the line of every key and list item.

The file is composed into YAML nodes rather than loaded straight to Python
values, because only nodes carry line marks. While the nodes become plain
data, the line of each key and each list item is recorded under its key path
(``("accounts", 1, "poll_interval")``), so any later error about a path can
name the line it was written on.

The file is untrusted input like any mail. Events come from libyaml's
iterative parser (about three times faster than the pure-Python scanner);
composing them into nodes is PyYAML's recursive Python ``Composer``, bounded
here by depth and node count so deep nesting cannot raise RecursionError.
Walking the nodes is bounded again, because an alias bomb ("billion laughs")
is a few nodes that expand to millions of values. Every failure becomes one
problem with its line, never a traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.resolver import BaseResolver

from config.errors import Problem
from config.values import shown

try:
    from yaml._yaml import CParser as _EventParser
except ImportError:  # PyYAML built without libyaml: the same events, parsed in Python
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _EventParser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


MAX_NODES = 50_000
MAX_DEPTH = 64

KeyPath = tuple[str | int, ...]
MISSING: Any = object()  # data of a document that could not be read at all
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _CoreSchema(BaseResolver):
    """Plain scalars read by the YAML 1.2 core schema, not PyYAML's YAML 1.1 rules.

    YAML 1.1 reads unquoted yes/no/on/off as booleans (an account named "on"
    became True, phone_region NO - Norway - became False), 1:30 as the base-60
    integer 90, 010 as octal 8 and 2024-01-01 as a date. People writing a
    config mean the text; only true/false, decimal numbers and null are typed.
    """


_DIGITS = tuple("0123456789")
# (tag, pattern, the characters a matching scalar can start with; "" = empty scalar)
_CORE_SCALARS = (
    ("null", r"null|Null|NULL|~|", ("n", "N", "~", "")),
    ("bool", r"true|True|TRUE|false|False|FALSE", ("t", "T", "f", "F")),
    ("int", r"[-+]?(?:0|[1-9][0-9]*)|0o[0-7]+|0x[0-9a-fA-F]+", ("-", "+", *_DIGITS)),
    (
        "float",
        # A dot or an exponent is required, so "010" stays text instead of a guess.
        r"[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        ("-", "+", ".", *_DIGITS),
    ),
    ("merge", r"<<", ("<",)),  # "<<: *defaults" stays: shared account settings use it
)
for _tag, _pattern, _first in _CORE_SCALARS:
    _CoreSchema.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_first)
    )


@dataclass
class Document:
    """YAML as plain data, with the line of every key and list item by key path."""

    data: object = None
    key_lines: dict[KeyPath, int] = field(default_factory=dict)
    item_lines: dict[KeyPath, int] = field(default_factory=dict)
    root_line: int = 1

    def line_of(self, path: KeyPath) -> int:
        """The line of ``path``, or of its nearest enclosing key or item that exists."""
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            line = self.key_lines.get(prefix) or self.item_lines.get(prefix)
            if line:
                return line
        return self.root_line


class _TooLarge(Exception):
    pass


class _BoundedLoader(Composer, _EventParser, SafeConstructor, _CoreSchema):
    """SafeLoader's pieces on libyaml events and the core schema, with nesting and node count capped."""

    def __init__(self, text: str) -> None:
        _EventParser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _CoreSchema.__init__(self)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.nodes += 1
        self.depth += 1
        try:
            if self.nodes > MAX_NODES or self.depth > MAX_DEPTH:
                raise _TooLarge
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(text: str, filename: str) -> tuple[Document, list[Problem]]:
    """The document's data and line marks, and any problem that stopped reading it."""
    document = Document()
    return document, _Composer(filename, document).compose(text)


class _Composer:
    """Turns YAML nodes into plain data while recording where each key was written."""

    def __init__(self, filename: str, document: Document) -> None:
        self.filename = filename
        self.document = document
        self.problems: list[Problem] = []
        self.visits = 0

    def compose(self, text: str) -> list[Problem]:
        self.document.data = MISSING
        loader = None
        try:
            self.loader = loader = _BoundedLoader(text)
            root = loader.get_single_node()
            if root is not None:
                self.document.root_line = root.start_mark.line + 1
            self.document.data = None if root is None else self._value(root, (), 0)
        except yaml.MarkedYAMLError as exc:
            self.document.data = MISSING
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            self._report(line, "", _syntax_message(exc, text, line))
        except (yaml.YAMLError, UnicodeError) as exc:  # control characters, lone surrogates
            self.document.data = MISSING
            position = getattr(exc, "position", getattr(exc, "start", None))
            line = text[:position].count("\n") + 1 if isinstance(position, int) else 0
            self._report(line, "", "YAML syntax: the file contains characters YAML does not allow")
        except _TooLarge:
            self.document.data = MISSING
            limits = f"{MAX_NODES} values or {MAX_DEPTH} levels"
            self._report(0, "", f"the document is too large (more than {limits})")
        finally:
            if loader is not None:
                loader.dispose()
        return self.problems

    def _report(self, line: int, path: str, message: str) -> None:
        self.problems.append(Problem(self.filename, line, path, message))

    def _value(self, node: yaml.Node, path: KeyPath, depth: int) -> object:
        self.visits += 1
        if self.visits > MAX_NODES or depth > MAX_DEPTH:
            raise _TooLarge
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_TAGS:
            # SafeLoader refuses such tags on scalars; do the same for collections
            # rather than quietly reading "!!python/object/apply" as a list.
            raise ConstructorError(
                None,
                None,
                f"could not determine a constructor for the tag {node.tag!r}",
                node.start_mark,
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.document.item_lines[(*path, index)] = item.start_mark.line + 1
                items.append(self._value(item, (*path, index), depth + 1))
            return items
        return self.loader.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath, depth: int) -> dict[str, object]:
        self.loader.flatten_mapping(node)  # resolves "<<: *defaults" merge keys
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self._value(key_node, path, depth + 1)
            if not isinstance(key, str):
                self._report(line, format_path(path), f"keys must be text, got {shown(key)}")
                continue
            if key in result:
                first = self.document.key_lines[(*path, key)]
                self._report(
                    line, format_path((*path, key)), f"duplicate key (first on line {first})"
                )
                continue
            self.document.key_lines[(*path, key)] = line
            result[key] = self._value(value_node, (*path, key), depth + 1)
        return result


def _syntax_message(exc: yaml.MarkedYAMLError, text: str, line: int) -> str:
    """YAML's own words, except for a tab in the indentation of the line it stopped at.

    YAML forbids tabs for indentation (YAML 1.2, section 6.1), and libyaml
    reports one as "found character that cannot start any token" or "a tab
    character that violates indentation", which does not say what to fix.
    """
    lines = text.split("\n")
    if 0 < line <= len(lines):
        content = lines[line - 1]
        if "\t" in content[: len(content) - len(content.lstrip(" \t"))]:
            return "tabs are not allowed for indentation; indent with spaces"
    return f"YAML syntax: {exc.problem or exc.context}"


def format_path(path: KeyPath) -> str:
    """("accounts", 1, "poll_interval") -> "accounts[1].poll_interval"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
