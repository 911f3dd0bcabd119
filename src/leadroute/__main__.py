from leadroute.cli import app

app()
