"""Shared library of the Taskforce services: settings, database, outbox, inbox, Kafka, auth,
errors, observability and the event contracts. Never deployed on its own; imports no service."""
