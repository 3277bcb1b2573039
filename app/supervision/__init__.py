"""Supervision (综合监管): the exception log, querying and tracing the platform's logs, exporting them,
retention, and the statistics dashboards. Reads what other rooms write; writes only its own logs."""
