"""Microsoft 365 through Graph: parsers of Graph message and event resources (the connector comes next)."""
