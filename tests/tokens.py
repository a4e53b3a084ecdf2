"""A token source for tests, as an OAuth provider behaves: tokens expire, refresh mints the next."""

from __future__ import annotations


class RotatingTokens:
    """Implements ``connectors.credentials.TokenSource``: each refresh moves to the next
    token (the last one stays); remembers every token handed out and every refresh."""

    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)
        self.handed_out: list[str] = []
        self.refreshes = 0

    def token(self) -> str:
        self.handed_out.append(self.tokens[0])
        return self.tokens[0]

    def refresh(self) -> str:
        self.refreshes += 1
        if len(self.tokens) > 1:
            self.tokens.pop(0)
        return self.token()
