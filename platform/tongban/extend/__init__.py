"""The plugin system's core side: the hook specifications and the plugin manager built in the
app factory. Plugin authors use :mod:`tongban.plugin_api` instead."""
