"""The baseline of bench/answers.py: a trivial FastAPI app with the reply app's two routes.

`GET /r/{token}` returns a small page, `POST /r/{token}` reads the url-encoded form and returns
another; nothing else. Served the way `accord web` serves the reply app (uvicorn, one process,
its default logging, no server header): `python bench/trivial_app.py --port P`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/r/{token}")
def page(token: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>t</title><p>{len(token)}</p>")


@app.post("/r/{token}")
async def answer(token: str, request: Request) -> HTMLResponse:
    fields = parse_qs((await request.body()).decode("ascii"))
    return HTMLResponse(f"<!doctype html><title>t</title><p>{fields['decision'][0]}</p>")


@app.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    uvicorn.run(
        "trivial_app:app",
        app_dir=str(Path(__file__).parent),
        host="127.0.0.1",
        port=port,
        server_header=False,
    )


if __name__ == "__main__":
    main()
