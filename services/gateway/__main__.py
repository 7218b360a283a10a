"""`python -m services.gateway`: serve the gateway with uvicorn, configured from `TASKFORCE_*`."""

import uvicorn

from services.gateway.settings import GatewaySettings

# Room for the request line (method, path, query) in h11's bound on a whole request head.
REQUEST_LINE_ROOM_BYTES = 8 * 1024


def main() -> None:
    settings = GatewaySettings()
    # log_config=None keeps the kernel's JSON logging that create_app configures.
    uvicorn.run(
        "services.gateway.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # h11, not httptools: only h11 bounds what it buffers of a request head before the
        # app sees it. The app's own limit (431 problem+json) applies first; this backstop,
        # with room for the request line, answers a plain 400 to anything far larger.
        http="h11",
        h11_max_incomplete_event_size=settings.max_header_bytes + REQUEST_LINE_ROOM_BYTES,
        # The client address comes from `trusted_proxies` alone (ratelimit.py): uvicorn's own
        # X-Forwarded-For handling would trust 127.0.0.1 behind the gateway's back.
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
