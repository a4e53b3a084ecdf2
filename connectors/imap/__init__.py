"""IMAP: the connector, its session (login, TLS), fetching and response parsing."""
