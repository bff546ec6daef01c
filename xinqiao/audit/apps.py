from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "xinqiao.audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth import get_user_model

        from xinqiao.accounts.models import ApiToken
        from xinqiao.orgs.models import (
            ConfidentialityAgreement,
            Membership,
            StaffProfile,
            Team,
            TeamMember,
            Unit,
        )

        # Field-level change log (R-PRIVACY). Secrets are excluded outright; identifying
        # fields of staff are masked so the log shows that they changed, not their values.
        auditlog.register(
            get_user_model(),
            exclude_fields=["password", "last_login"],
            mask_fields=["email"],
        )
        auditlog.register(ApiToken, exclude_fields=["digest", "last_used_at"])
        auditlog.register(Unit, exclude_fields=["updated_at"])
        auditlog.register(Membership)
        auditlog.register(
            StaffProfile, exclude_fields=["updated_at"], mask_fields=["qualification_number"]
        )
        auditlog.register(Team)
        auditlog.register(TeamMember)
        auditlog.register(ConfidentialityAgreement)

        from xinqiao.people.models import (
            Consent,
            FamilyLink,
            GroupMembership,
            HospitalStay,
            ImportJob,
            IsolationRecord,
            Person,
            Transfer,
        )

        # Person files: every personal value masked; the log shows what changed, not to what.
        auditlog.register(
            Person,
            exclude_fields=["id_number_index", "phone_index", "updated_at", "version"],
            mask_fields=[
                "name",
                "id_number",
                "phone",
                "address",
                "contact_name",
                "contact_phone",
                "notes",
                "ethnicity",
                "birth_date",
            ],
        )
        auditlog.register(GroupMembership)
        auditlog.register(HospitalStay, mask_fields=["hospital"])
        auditlog.register(IsolationRecord, mask_fields=["place"])
        auditlog.register(FamilyLink)
        auditlog.register(Consent, mask_fields=["guardian_name", "witness"])
        auditlog.register(Transfer)
        auditlog.register(ImportJob, exclude_fields=["errors", "processed_rows"])

        from xinqiao.assessments.models import Assessment, Campaign, Invitation

        # Answers are health data and the respondent saves them one screen at a time: the
        # change log records the result (status, score, band), never the answers themselves.
        auditlog.register(
            Assessment,
            exclude_fields=["updated_at", "resume_digest", "position", "answers", "subscales"],
            mask_fields=["error_reason"],
        )
        auditlog.register(Invitation, exclude_fields=["token", "token_index"])
        auditlog.register(Campaign)
        # Risk signals, like alert events, level changes and timeline entries, are append-only
        # records that carry their own who/what/when; the change log does not copy their facts
        # (answers to critical items are health data) a second time.

        from xinqiao.referrals.models import Referral

        # Referrals: the free texts are health and personal data; the log shows that they
        # changed (and the statuses, units and people involved), never what they say.
        auditlog.register(
            Referral,
            exclude_fields=["updated_at"],
            mask_fields=["reason", "emergency_reason", "decline_reason", "outcome"],
        )

        from xinqiao.notify.models import Notification, NotifyPreference

        # Notifications: their status changes (delivered, not delivered, read); the text is
        # the caller's and stays out of the log. The mobile number is masked.
        auditlog.register(Notification, exclude_fields=["subject", "body"])
        auditlog.register(NotifyPreference, exclude_fields=["updated_at"], mask_fields=["mobile"])
