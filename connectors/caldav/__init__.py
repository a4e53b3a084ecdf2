"""CalDAV: the connector, its sync state and the WebDAV requests it makes."""
