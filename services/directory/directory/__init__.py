"""The directory service: owns users, groups and membership in PostgreSQL and publishes every change."""
