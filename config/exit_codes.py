"""The exit statuses of every ``autocapture`` command: one set, shared by ``agent.cli``
and ``config check`` (which lives below the agent and cannot import it)."""

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and something it did failed (an account, an input file)
EXIT_CONFIG = 2  # the configuration or the command line is invalid: nothing was done
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT (128 + 2)
