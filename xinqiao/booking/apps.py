from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "xinqiao.booking"
    verbose_name = "Booking"
