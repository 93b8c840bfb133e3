from ucap_cities.config import Settings
from ucap_cities.main import create_app
from ucap_shared.app import run_service


def main() -> None:
    settings = Settings()
    run_service(create_app(settings), settings)


if __name__ == "__main__":
    main()
