"""Bounces: the reports that come back to each delivery's return path (made by
notifications/delivery/return_paths.py), read, recorded and applied to the delivery."""
