from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "xinqiao.followups"
    verbose_name = "Followups"
