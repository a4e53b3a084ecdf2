"""Local archives: the connector and the rules for which local files it reads."""
