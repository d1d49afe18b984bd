"""Analyse stage: pure functions (classification, metrics features, detection, explanation).

No I/O, no clock, no globals: time windows are arguments.
"""
