from ucap_gateway.config import Settings
from ucap_gateway.main import DEFINITION
from ucap_shared.app import service_main


def main() -> None:
    service_main(Settings(), DEFINITION)


if __name__ == "__main__":
    main()
