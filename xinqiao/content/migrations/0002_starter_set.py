"""The built-in starter set of self-help articles (issue #8 item 3), published for every
portal at migration time; idempotent by ``builtin`` slug (xinqiao/content/starter)."""

from django.db import migrations
from django.utils import timezone


def load(apps, schema_editor):
    from xinqiao.content.starter import ensure_starter_set

    ensure_starter_set(apps.get_model("content", "Article"), now=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("content", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
