"""Notifications to people: an outbox written with the event that causes it (outbox.py),
messages per event in zh and en (templates.py), delivered by channel plugins (delivery.py)."""
