from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "xinqiao.followups"
    verbose_name = "Followups"

    def ready(self) -> None:
        from django.urls import reverse

        from xinqiao.followups import tasks  # noqa: F401 -- registers the daily job
        from xinqiao.followups.actions import erase_visits
        from xinqiao.followups.sections import SECTION
        from xinqiao.people import sections
        from xinqiao.people.actions import ERASURE_STEPS
        from xinqiao.people.events import EVENT_LINKS

        sections.register(SECTION)
        if erase_visits not in ERASURE_STEPS:
            ERASURE_STEPS.append(erase_visits)
        EVENT_LINKS["followups.followupvisit"] = lambda event: reverse(
            "followups:visit", kwargs={"visit_id": event.object_id}
        )
        EVENT_LINKS["followups.followupplan"] = lambda event: (
            reverse("people:detail", kwargs={"person_id": event.person_id}) + "#followup"
        )
