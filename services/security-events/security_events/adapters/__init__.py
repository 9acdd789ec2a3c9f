"""Ports to PostgreSQL, NATS and receivers."""
