"""``matcher.remembered``: short texts are read once, long ones every time."""

from __future__ import annotations

from matcher.remembered import remembered


def test_a_short_text_is_read_once_and_a_long_one_every_time() -> None:
    reads: list[str] = []

    @remembered(maxsize=8, chars=5)
    def shout(text: str, mark: str = "!") -> str:
        reads.append(text)
        return text.upper() + mark

    assert [shout("hello"), shout("hello"), shout("hello", mark="?")] == [
        "HELLO!",
        "HELLO!",
        "HELLO?",
    ]
    assert [shout("goodbye"), shout("goodbye")] == ["GOODBYE!", "GOODBYE!"]
    assert reads == ["hello", "hello", "goodbye", "goodbye"]
    assert shout.__name__ == "shout"


def test_the_oldest_short_text_leaves_when_the_cache_is_full() -> None:
    reads: list[str] = []

    @remembered(maxsize=2, chars=10)
    def length(text: str) -> int:
        reads.append(text)
        return len(text)

    for text in ("a", "bb", "ccc", "bb", "a"):
        length(text)
    assert reads == ["a", "bb", "ccc", "a"]
