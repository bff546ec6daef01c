from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "xinqiao.referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from django.urls import reverse

        from xinqiao.people import sections
        from xinqiao.people.actions import ERASURE_STEPS
        from xinqiao.people.events import EVENT_LINKS
        from xinqiao.referrals.actions import erase_referral_texts
        from xinqiao.referrals.sections import SECTION

        sections.register(SECTION)
        if erase_referral_texts not in ERASURE_STEPS:
            ERASURE_STEPS.append(erase_referral_texts)
        EVENT_LINKS["referrals.referral"] = lambda event: reverse(
            "referrals:detail", kwargs={"referral_id": event.object_id}
        )
