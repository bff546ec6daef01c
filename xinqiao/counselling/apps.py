from django.apps import AppConfig


class CounsellingConfig(AppConfig):
    name = "xinqiao.counselling"
    verbose_name = "Counselling"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.urls import reverse

        from xinqiao.counselling.actions import erase_session_texts
        from xinqiao.counselling.models import Programme, Session, SessionParticipant
        from xinqiao.counselling.sections import SECTION
        from xinqiao.people import sections
        from xinqiao.people.actions import ERASURE_STEPS
        from xinqiao.people.events import EVENT_LINKS

        sections.register(SECTION)
        if erase_session_texts not in ERASURE_STEPS:
            ERASURE_STEPS.append(erase_session_texts)
        EVENT_LINKS["counselling.session"] = lambda event: reverse(
            "counselling:detail", kwargs={"session_id": event.object_id}
        )
        # The change log shows that a text changed, never the text (R-PRIVACY).
        if not auditlog.contains(Session):
            auditlog.register(Session, mask_fields=["plan"])
            auditlog.register(
                SessionParticipant,
                mask_fields=["basic_situation", "self_evaluation", "life_events", "advice", "note"],
                exclude_fields=["updated_at"],
            )
            auditlog.register(Programme)
