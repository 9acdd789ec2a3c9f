"""The provisioning log: every SCIM request recorded off the request path and stored by the directory."""
