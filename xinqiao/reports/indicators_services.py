"""Dashboard sections of the services beyond people, assessments and alerts (referrals,
follow-ups, counselling sessions, the hotline and mailbox, education, staffing): registered
with ``indicators.section`` from the aggregate tables of ``sources_services``."""
