"""The JetStream consumer."""
