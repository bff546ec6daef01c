from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "xinqiao.instruments"
    verbose_name = "Instruments"

    def ready(self) -> None:
        # Every instrument file is checked at start-up: a broken file stops the platform
        # with a message naming the file and the field, instead of mis-scoring later.
        from xinqiao.instruments.library import library

        library()
