"""The lab: small Go services that reproduce each situation mapdoctor diagnoses.

Used to regenerate the test fixtures, by the live tests and by ``mapdoctor demo``.
"""
