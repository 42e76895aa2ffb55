"""Analysis: from the model to findings (classification, attribution, verdict, timelines)."""
