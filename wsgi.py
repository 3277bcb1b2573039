"""WSGI entry point: gunicorn serves it in production (`make serve`, configured by app/serving.py), Flask's
development server in development (`make run`); see docs/deployment.md."""
from app import create_app

app = create_app()
