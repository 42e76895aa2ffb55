"""Live collection from a running service's net/http/pprof (``mapdoctor diagnose``).

``target`` parses what the user typed, ``plan`` says what is fetched and when,
``fetch`` makes one bounded request, ``collector`` runs them all concurrently,
``manifest`` records the result next to the evidence.
"""
