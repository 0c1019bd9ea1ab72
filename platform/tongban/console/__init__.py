"""The admin console's service workspace: working copies of services as files, checked against
what is published, published whole with a readable diff (docs/console.md)."""
