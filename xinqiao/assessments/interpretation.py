"""What a result means for staff, and what the respondent is told.

The suggested intervention of each band comes from the instrument file. Seed 000 二(四):
after an assessment, "提出团体干预、家庭干预、个体干预等心理疏导的建议" (suggest group, family or
individual counselling); 二(六): people whose results show a problem get timely one-to-one
intervention, and anyone with serious problems or an obvious risk of suicide or self-harm is
referred to the designated hospital at once.

The respondent never sees a clinical label for a serious result (issue #4 item 4): they are
told kindly where help is, with the hotline number.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from xinqiao.assessments.models import Assessment, Intervention

STAFF_ADVICE: dict[str, Promise] = {
    Intervention.NONE: _(
        "No sign of a problem on this instrument. Offer general mental-health information; "
        "no intervention is needed."
    ),
    Intervention.EDUCATION: _(
        "Mild. Offer mental-health education and self-help material, and repeat the "
        "assessment at the next follow-up."
    ),
    Intervention.GROUP: _(
        "Moderate. Suggest group counselling, follow the person up and repeat the assessment."
    ),
    Intervention.FAMILY: _(
        "Suggest family counselling together with the parents or guardians, and follow up closely."
    ),
    Intervention.INDIVIDUAL: _(
        "Marked. Arrange individual counselling and consider an assessment by a psychiatrist."
    ),
    Intervention.URGENT: _(
        "Severe. Contact the person today for one-to-one intervention, assess the risk of "
        "suicide and self-harm, and refer to the designated hospital when needed."
    ),
}

CRITICAL_ADVICE = _(
    "A critical item was answered (thoughts of death, suicide or self-harm): assess the risk of "
    "suicide in person today, whatever the total score."
)

# Results the respondent is not shown a label for (serious, or a critical item).
_SERIOUS = {Intervention.INDIVIDUAL, Intervention.URGENT}


def is_serious(assessment: Assessment) -> bool:
    return bool(assessment.critical_items) or assessment.intervention in _SERIOUS


def respondent_message(assessment: Assessment) -> dict[str, object]:
    """What the result page on the respondent's phone says."""
    band = assessment.band
    zh = assessment.language.startswith("zh")
    if is_serious(assessment):
        return {
            "serious": True,
            "heading": _("Thank you for telling us how you are"),
            "text": _(
                "Your answers show that you may be going through a hard time. You do not have to "
                "face it alone: talking to someone helps. Please call the psychological "
                "assistance hotline now; it is free and answers day and night."
            ),
            "label": "",
        }
    if assessment.intervention in (Intervention.GROUP, Intervention.FAMILY):
        return {
            "serious": False,
            "heading": _("Thank you for completing the assessment"),
            "text": _(
                "Your answers suggest that some things have been weighing on you lately. A "
                "conversation with a counsellor can help; you can also call the hotline at any "
                "time."
            ),
            "label": "",
        }
    return {
        "serious": False,
        "heading": _("Thank you for completing the assessment"),
        "text": _(
            "Take care of your sleep, keep in touch with people close to you, and move a little "
            "every day. If things get harder, the hotline is there for you."
        ),
        "label": (band.zh if zh else band.en) if band else "",
    }
