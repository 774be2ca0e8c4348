"""The published site (ACCORD_HOME/site) as the reply app serves it: a withdrawn statement's
page answers 410 Gone (its text says when and why it was withdrawn); its certificate, which
records the withdrawal, and the feed are served as they are."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class SiteFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200 and path.endswith(".html") and self._withdrawn(path):
            response.status_code = 410
        return response

    def _withdrawn(self, path: str) -> bool:
        certificate = Path(str(self.directory)) / Path(path).with_suffix(".json")
        try:
            return "withdrawal" in json.loads(certificate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
