from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "xinqiao.people"

    def ready(self) -> None:
        from xinqiao.people import tasks  # noqa: F401 -- registers the import job handlers
