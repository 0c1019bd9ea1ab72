"""The form engine: JSON Schema form files rendered as accessible pages, validated on the server."""
