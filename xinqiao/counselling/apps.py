from django.apps import AppConfig


class CounsellingConfig(AppConfig):
    name = "xinqiao.counselling"
    verbose_name = "Counselling"
