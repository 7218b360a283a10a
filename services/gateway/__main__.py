"""`python -m services.gateway`: serve the gateway with uvicorn, configured from `TASKFORCE_*`."""

import uvicorn

from services.gateway.settings import GatewaySettings


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
    )


if __name__ == "__main__":
    main()
