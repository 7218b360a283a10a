"""The gateway: one public entry point that verifies tokens and routes `/v1` to the services."""
