"""Outgoing webhooks: signed events for chat and ticketing tools (Standard Webhooks)."""
