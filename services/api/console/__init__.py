"""The reviewer console: server-rendered pages over the API (issue 18).

Mount it on the API app with one line, ``install(app)`` (``services.api.console.routes``):
pages under ``/console``, built from what the API returns to the signed-in token.
"""
