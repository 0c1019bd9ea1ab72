"""The flow engine: YAML approval flows (definition), the pure engine (engine, operations), the
runtime that runs it on the database (runtime, directory, delegations), service-node hooks
and their outbox worker (hooks, worker). See docs/flows.md."""
