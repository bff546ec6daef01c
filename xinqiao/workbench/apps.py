from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "xinqiao.workbench"
