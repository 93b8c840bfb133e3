"""ucap pilots service: pilot projects and their progress"""

from ucap_pilots.config import Settings
from ucap_pilots.main import DEFINITION
from ucap_shared.app import service_main


def main() -> None:
    service_main(Settings(), DEFINITION)


if __name__ == "__main__":
    main()
