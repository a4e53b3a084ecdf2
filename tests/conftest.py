# Server fixtures live in tests/servers/; each module registers here.
pytest_plugins = [
    "tests.servers.postgres",
    "tests.servers.dovecot",
    "tests.servers.radicale",
    "tests.servers.google_api",
]
