"""One YAML file -> Settings, or a ConfigError listing every problem with file:line.

The file is composed into YAML nodes (``yaml.SafeLoader``) rather than loaded
straight to Python values, because only nodes carry line marks. While the
nodes become plain data, the line of every key and every list item is
recorded under its key path; a pydantic error's ``loc`` is then walked back
to the nearest recorded path:

- an error on a key that exists points at that key's line;
- an unknown key points at its own line;
- a missing key points at the mapping that should hold it.

The file is untrusted input like any mail: size, node count and nesting are
capped, so alias bombs ("billion laughs") and recursive anchors end as one
problem instead of unbounded memory or a RecursionError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from config.errors import ConfigError, Problem
from config.settings import ACCOUNT_KINDS, Settings
from config.values import shown

MAX_CONFIG_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64

KeyPath = tuple[str | int, ...]
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_MISSING = object()


def load(path: Path) -> Settings:
    """Settings from the YAML file at ``path``; raises ConfigError with every problem."""
    parsed = parse_file(path)
    if parsed.settings is None:
        raise ConfigError(parsed.problems)
    return parsed.settings


def load_text(text: str, filename: str = "<string>", base_dir: Path | None = None) -> Settings:
    """Settings from YAML text; relative archive paths resolve against ``base_dir`` (cwd)."""
    parsed = parse_text(text, filename, base_dir or Path.cwd())
    if parsed.settings is None:
        raise ConfigError(parsed.problems)
    return parsed.settings


def check(path: Path) -> list[Problem]:
    """Every problem of the file at ``path`` (never opens the database); [] means it loads."""
    return parse_file(path).problems


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


@dataclass(frozen=True)
class Parsed:
    """The outcome of reading one file: Settings when there were no problems."""

    settings: Settings | None
    problems: list[Problem]
    document: Document


def parse_file(path: Path) -> Parsed:
    filename = str(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        return _failed(Problem(filename, 0, "", f"cannot read the file: {exc.strerror}"))
    if len(raw) > MAX_CONFIG_BYTES:
        return _failed(Problem(filename, 0, "", "the file is larger than 1 MiB"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return _failed(Problem(filename, line, "", "the file is not UTF-8 text"))
    return parse_text(text, filename, path.absolute().parent)


def parse_text(text: str, filename: str, base_dir: Path) -> Parsed:
    document = Document()
    problems = _Composer(filename, document).compose(text)
    if document.data is _MISSING:
        return Parsed(None, problems, document)
    data = {} if document.data is None else document.data
    if not isinstance(data, Mapping):
        problems.append(
            Problem(filename, document.root_line, "", "expected a mapping of settings (key: value)")
        )
        return Parsed(None, problems, document)
    try:
        settings = Settings.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        problems += [_problem(error, filename, document) for error in exc.errors()]
    problems.sort(key=lambda p: p.line)  # stable: same-line problems keep pydantic's order
    return Parsed(None if problems else settings, problems, document)


def _failed(problem: Problem) -> Parsed:
    return Parsed(None, [problem], Document(data=_MISSING))


class _TooLarge(Exception):
    pass


class _Composer:
    """Turns YAML nodes into plain data while recording where each key was written."""

    def __init__(self, filename: str, document: Document) -> None:
        self.filename = filename
        self.document = document
        self.problems: list[Problem] = []
        self.visits = 0

    def compose(self, text: str) -> list[Problem]:
        self.loader = loader = yaml.SafeLoader(text)
        self.document.data = _MISSING
        try:
            root = loader.get_single_node()
            if root is not None:
                self.document.root_line = root.start_mark.line + 1
            self.document.data = None if root is None else self._value(root, (), 0)
        except yaml.MarkedYAMLError as exc:
            self.document.data = _MISSING
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else 0
            self._report(line, "", f"YAML syntax: {exc.problem or exc.context}")
        except yaml.YAMLError as exc:  # reader errors: control characters, bad encoding
            self.document.data = _MISSING
            position = getattr(exc, "position", None)
            line = text[:position].count("\n") + 1 if isinstance(position, int) else 0
            self._report(line, "", "YAML syntax: the file contains characters YAML does not allow")
        except _TooLarge:
            self.document.data = _MISSING
            limits = f"{MAX_NODES} values or {MAX_DEPTH} levels"
            self._report(0, "", f"the document is too large (more than {limits})")
        finally:
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
            raise yaml.constructor.ConstructorError(
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


def format_path(path: KeyPath) -> str:
    """("accounts", 1, "poll_interval") -> "accounts[1].poll_interval"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _problem(error: ErrorDetails, filename: str, document: Document) -> Problem:
    path = _key_path(error["loc"], document.data)
    tagged = error["type"] in ("union_tag_invalid", "union_tag_not_found")
    if tagged and isinstance(error["input"], Mapping):
        path = (*path, "kind")  # pydantic reports the account; the mistake is its kind
    return Problem(filename, document.line_of(path), format_path(path), _message(error))


def _key_path(loc: tuple[str | int, ...], data: object) -> KeyPath:
    """pydantic's loc without the union tags it inserts ("accounts", 1, "imap", ...)."""
    path: list[str | int] = []
    for part in loc:
        at_account = path[:1] == ["accounts"] and len(path) == 2
        if at_account and isinstance(data, Mapping) and data.get("kind") == part:
            continue
        path.append(part)
        if isinstance(data, Mapping):
            data = data.get(part, _MISSING)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            data = _MISSING
    return tuple(path)


def _message(error: ErrorDetails) -> str:
    kind, message, value = error["type"], error["msg"], error["input"]
    kinds = ", ".join(ACCOUNT_KINDS)
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        return "unknown key"  # never quote its value: it may be a misspelled password
    if kind == "union_tag_invalid":
        found = value.get("kind") if isinstance(value, Mapping) else value
        return f"unknown account kind {shown(found)}; expected one of {kinds}"
    if kind == "union_tag_not_found":
        return f"missing required key (one of {kinds})"
    if message.startswith("Value error, "):
        return message.removeprefix("Value error, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {shown(value)}"
    if message.startswith("Input should be "):
        wanted = message.removeprefix("Input should be ")
        if wanted.startswith(("greater", "less")):
            wanted = f"a number {wanted}"
        return f"expected {wanted}, got {shown(value)}"
    return message
