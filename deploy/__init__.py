"""Production deployment: the nginx template and a loopback runner for it (tests, benches)."""
