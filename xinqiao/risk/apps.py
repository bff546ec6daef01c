from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "xinqiao.risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        from django.urls import reverse

        from xinqiao.people import sections
        from xinqiao.people.events import EVENT_LINKS
        from xinqiao.risk import actions  # noqa: F401 -- registers its job handlers
        from xinqiao.risk.sections import SECTION

        # Registered before the assessments section: a worker must see risk first on a file.
        sections.register(SECTION)
        on_file = lambda event: (  # noqa: E731
            reverse("people:detail", kwargs={"person_id": event.person_id}) + "#risk"
        )
        for label in ("risk.risksignal", "risk.concernreport", "risk.personrisk"):
            EVENT_LINKS[label] = on_file
        EVENT_LINKS["risk.alert"] = lambda event: reverse(
            "risk:alert", kwargs={"alert_id": event.object_id}
        )
