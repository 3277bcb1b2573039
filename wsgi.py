"""WSGI entry point for any WSGI server; none is shipped (`make run` uses `flask --app wsgi run`):
see docs/deployment.md."""
from app import create_app

app = create_app()
