from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "xinqiao.assessments"
    verbose_name = "Assessments"

    def ready(self) -> None:
        from django.urls import reverse

        from xinqiao.assessments.actions import erase_answers
        from xinqiao.assessments.sections import SECTION
        from xinqiao.people import sections
        from xinqiao.people.actions import ERASURE_STEPS
        from xinqiao.people.events import EVENT_LINKS

        sections.register(SECTION)
        if erase_answers not in ERASURE_STEPS:
            ERASURE_STEPS.append(erase_answers)
        EVENT_LINKS["assessments.assessment"] = lambda event: reverse(
            "assessments:detail", kwargs={"assessment_id": event.object_id}
        )
