"""`python -m taskforce`: the same as the `taskforce` command."""

from taskforce.cli import app

app(prog_name="taskforce")
