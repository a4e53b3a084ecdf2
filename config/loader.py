"""One YAML file -> Settings, or a ConfigError listing every problem with file:line.

``config.document`` turns the text into plain data with the line of every
key; pydantic validates that data and reports every error at once; each
error's ``loc`` is then walked back to the nearest recorded key path:

- an error on a key that exists points at that key's line;
- an unknown key points at its own line;
- a missing key points at the mapping that should hold it.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config.accounts import ACCOUNT_KINDS, ACCOUNT_MODELS
from config.document import MISSING, Document, KeyPath, compose, format_path
from config.errors import ConfigError, Problem
from config.settings import Settings
from config.values import shown

# Real configurations are a few KiB; the cap bounds the time a hostile file costs.
MAX_CONFIG_BYTES = 1024 * 1024


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
    document, problems = compose(text, filename)
    if document.data is MISSING:
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
    return Parsed(None, [problem], Document(data=MISSING))


def _problem(error: ErrorDetails, filename: str, document: Document) -> Problem:
    path = _key_path(error["loc"], document.data)
    tagged = error["type"] in ("union_tag_invalid", "union_tag_not_found")
    if tagged and isinstance(error["input"], Mapping):
        path = (*path, "kind")  # pydantic reports the account; the mistake is its kind
    message = _message(error)
    if error["type"] == "extra_forbidden" and path and isinstance(path[-1], str):
        message += _did_you_mean(path[-1], _keys_at(path[:-1], document.data))
    return Problem(filename, document.line_of(path), format_path(path), message)


def _keys_at(parent: KeyPath, data: object) -> Collection[str]:
    """The keys the settings model at ``parent`` accepts (none if unknown)."""
    model: type[BaseModel] | None = None
    if not parent:
        model = Settings
    elif len(parent) == 1 and parent[0] in Settings.model_fields:
        annotation = Settings.model_fields[str(parent[0])].annotation
        model = annotation if isinstance(annotation, type) else None
    elif len(parent) == 2 and parent[0] == "accounts" and isinstance(data, Mapping):
        accounts, index = data.get("accounts"), parent[1]
        if isinstance(accounts, list) and isinstance(index, int) and index < len(accounts):
            account = accounts[index]
            kind = account.get("kind") if isinstance(account, Mapping) else None
            model = ACCOUNT_MODELS.get(kind) if isinstance(kind, str) else None
    if model is None or not issubclass(model, BaseModel):
        return ()
    return list(model.model_fields)


def _did_you_mean(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _key_path(loc: tuple[str | int, ...], data: object) -> KeyPath:
    """pydantic's loc without the union tags it inserts ("accounts", 1, "imap", ...)."""
    path: list[str | int] = []
    for part in loc:
        at_account = path[:1] == ["accounts"] and len(path) == 2
        if at_account and isinstance(data, Mapping) and data.get("kind") == part:
            continue
        path.append(part)
        if isinstance(data, Mapping):
            data = data.get(part, MISSING)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            data = MISSING
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
    if kind == "too_short":
        least = error.get("ctx", {}).get("min_length", 1)
        return f"expected at least {least} {'item' if least == 1 else 'items'}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {shown(value)}"
    if message.startswith("Input should be "):
        wanted = message.removeprefix("Input should be ")
        if wanted.startswith(("greater", "less")):
            wanted = f"a number {wanted}"
        return f"expected {wanted}, got {shown(value)}"
    return message
