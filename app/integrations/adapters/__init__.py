"""One small module per department, each a thin typed wrapper over ``app.integrations.client.call``: the
path, the request body and a call-log summary free of personal data (masked values only)."""
