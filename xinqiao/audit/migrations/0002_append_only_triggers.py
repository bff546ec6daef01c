"""Append-only audit tables, enforced by PostgreSQL itself (R-PRIVACY).

Any UPDATE or DELETE on the access log or on django-auditlog's change log raises an error in
the database, whoever sends it. (TRUNCATE, a maintenance operation needing table ownership, is
left to the database administrator.) SQLite, the single-user embedded default, relies on the
application, which has no code path that changes or deletes entries.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION xinqiao_refuse_audit_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

TABLES = ["audit_accesslog", "auditlog_logentry"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION xinqiao_refuse_audit_change()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS xinqiao_refuse_audit_change()")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
    ]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
