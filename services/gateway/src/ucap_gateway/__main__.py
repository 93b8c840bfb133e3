import sys

from ucap_gateway import keys_cli
from ucap_gateway.config import Settings
from ucap_gateway.main import DEFINITION
from ucap_shared.app import service_main


def main() -> None:
    if sys.argv[1:2] == ["keys"]:
        sys.exit(keys_cli.main(sys.argv[2:]))
    service_main(Settings(), DEFINITION)


if __name__ == "__main__":
    main()
