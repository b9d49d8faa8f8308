"""The wire: a small HTTP/1.1 server and the `requests` adapter that routes to it."""
