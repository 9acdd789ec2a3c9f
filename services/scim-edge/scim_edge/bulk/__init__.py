"""/Bulk (RFC 7644 §3.7) on the edge: each operation makes the directory call of its single-resource twin."""
