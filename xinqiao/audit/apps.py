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
