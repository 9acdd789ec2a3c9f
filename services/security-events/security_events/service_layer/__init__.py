"""Use cases: consume directory events into SETs, deliver, poll, administer streams."""
