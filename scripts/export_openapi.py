"""Write the served OpenAPI document to openapi/openapi.json (`make openapi`).

A test fails when the file and the app disagree, so the contract in the repo is the
one that runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.main import create_app
from app.settings import Settings

OPENAPI_FILE = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def current_openapi() -> dict[str, Any]:
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", log_level="WARNING")
    return create_app(settings).openapi()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    OPENAPI_FILE.write_text(render(current_openapi()), encoding="utf-8")
    print(f"wrote {OPENAPI_FILE}")  # noqa: T201


if __name__ == "__main__":
    main()
