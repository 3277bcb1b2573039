"""Data sharing as use cases of a case: the checks with other departments (identity, marriage, contract, licence),
the tax hand-off and its callback, the re-checks of waiting cases, the snapshots kept in the case, and the
exemptions shared data grants. They change a case's status, so they live
with the cases; the adapters, the HTTP client and the outbox they use stay in app/integrations."""
