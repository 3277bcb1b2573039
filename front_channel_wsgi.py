"""WSGI entry point of the back office's front channel (docs/zones.md): the listener the internet zone's portal
front forwards to, served on its own address, e.g.
``FRONT_CHANNEL_PUBLIC_KEYS=… gunicorn -c python:app.serving -b 10.231.0.1:8001 front_channel_wsgi:app``.
Only allow-listed applicant routes signed with a configured front key get through to the application."""
from app import create_app
from app.federation.front_channel import FrontChannel

app = FrontChannel.from_env(create_app())
