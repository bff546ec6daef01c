"""The person timeline is append-only, enforced by PostgreSQL (as the audit tables are)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TRIGGER people_personevent_append_only BEFORE UPDATE OR DELETE "
        "ON people_personevent FOR EACH ROW EXECUTE FUNCTION xinqiao_refuse_audit_change()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS people_personevent_append_only ON people_personevent"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("audit", "0002_append_only_triggers"),
    ]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
