"""portal-actions: applies directory events to the Dashboard, Enterprise Store and MDM Portal."""
