"""``mapdoctor watch``: a long-running agent beside ``collect/`` for one or many services.

``targets`` and ``discovery`` say what to watch (URLs, files, Prometheus ``file_sd`` /
``http_sd``, sharded like Prometheus' ``hashmod``); ``scheduler`` runs light samples
(``collect.sample``) within an overhead budget; ``triggers`` decide when a sample (or an
Alertmanager webhook, ``alerts``) calls for the full ``diagnose`` collection, which
``capture`` runs into the ``store`` (atomic bundles, index, retention); ``metrics`` and
``server`` expose it all to Prometheus and to a person (``status_page``); ``agent`` ties
them together.
"""
