"""Input formats: bytes and text from Go tools, decoded into the model.

Nothing here knows about verdicts or reports.
"""
