"""The security_events schema."""
