from django.urls import URLPattern

app_name = "counselling"

urlpatterns: list[URLPattern] = []
