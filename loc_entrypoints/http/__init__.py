"""The HTTP API of both products (needs the ``http`` extra: Litestar, uvicorn, Mangum, PyJWT).

``create_app()`` returns the ASGI app of the embedded default; ``loc serve`` runs it and
``loc_entrypoints.lambdas.http`` wraps it for API Gateway. docs/http-api.md shows a session.
"""

from loc_entrypoints.http._app import create_app, openapi_document

__all__ = ["create_app", "openapi_document"]
