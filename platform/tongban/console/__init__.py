"""The administrators' console: service workspaces and the editors that change them."""
