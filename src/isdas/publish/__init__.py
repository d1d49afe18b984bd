"""Publish stage: alert documents with revisions, renderers, graphs, site, feed and notifications.

Reads detections, metrics and knowledge; writes alerts only through isdas.store.alerts.
"""
