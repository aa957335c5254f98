"""The page shell shared by run and bench reports: inline CSS, inline data, inline script."""
from __future__ import annotations

import html
import json
from importlib import resources


def _asset(name: str) -> str:
    return resources.files("ouro.agent.report").joinpath(name).read_text(encoding="utf-8")


def embed_json(data) -> str:
    # "<" escaped so that "</script>" inside a diff or test output cannot end the block early
    return json.dumps(data, sort_keys=True, default=str).replace("<", "\\u003c").replace("\u2028", "\\u2028")


def page(title: str, *, body: str, data=None, script: str | None = None) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # no network: the page must render offline and must not phone home
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{html.escape(title)}</title>",
        f"<style>{_asset('style.css')}</style>",
        "</head><body>",
        body,
    ]
    if data is not None:
        parts.append(f'<script type="application/json" id="ouro-data">{embed_json(data)}</script>')
    if script:
        parts.append(f"<script>{_asset(script)}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)
