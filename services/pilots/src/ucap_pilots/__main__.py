"""ucap pilots service: pilot projects and their progress"""

import sys

import uvicorn

from ucap_pilots.config import Settings
from ucap_pilots.main import DEFINITION, create_app
from ucap_shared.app import service_main
from ucap_shared.logs import configure_logging


def main() -> None:
    """``serve`` runs :func:`create_app` (with the body size limit); the rest as usual."""
    settings = Settings()
    if sys.argv[1:] in ([], ["serve"]):
        configure_logging(settings.service_name, settings.log_level)
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)
        return
    service_main(settings, DEFINITION)


if __name__ == "__main__":
    main()
