"""`python -m wendu.cli ...` runs the `wendu` command (e.g. where no console script is on PATH)."""

from wendu.cli.main import app

app()
