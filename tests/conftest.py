# Server fixtures live in tests/servers/; each module registers here.
pytest_plugins = [
    "tests.servers.postgres",
    "tests.servers.dovecot",
    "tests.servers.radicale",
    "tests.servers.fake_http",
    "tests.servers.google_api",
    "tests.servers.microsoft_identity",
    "tests.servers.microsoft_graph",
    "tests.microsoft_clients",  # the ``graph`` fixture: Graph with Dana's app registered
]
