"""`GET /admin/privacy/export.json?conversation=ID` or `?contact=EMAIL_OR_PHONE`: everything held
of a customer, as a JSON download, for an owner's session only (the guard of admin_auth.py sends
anyone else away). Served straight from the database: no export file is left on disk."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from chatbot.actions.privacy import export_customer, find_customer
from chatbot.services import Services
from chatbot.store.accounts import Role
from chatbot.web.admin_auth import session_account
from knowledge.errors import KnowledgeError

EXPORT_PATH = "/admin/privacy/export.json"


def customer_export_router(services: Services) -> APIRouter:
    router = APIRouter(include_in_schema=False)  # the console's, not the public API

    @router.get(EXPORT_PATH)
    def export(
        request: Request, conversation: str | None = None, contact: str | None = None
    ) -> Response:
        account = session_account(services, request)
        if account is None or account.role is not Role.OWNER:
            return JSONResponse({"error": "only an owner may export a customer's data"}, 403)
        try:
            refs = find_customer(
                services,
                account.username,
                conversation=conversation,
                contact=contact,
                bots=account.bots,
            )
        except KnowledgeError as exc:
            return JSONResponse({"error": str(exc)}, 404)
        document = export_customer(services, account.username, refs)
        return Response(
            json.dumps(document, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={
                "Content-Disposition": 'attachment; filename="customer-data.json"',
                "Cache-Control": "no-store",
            },
        )

    return router
