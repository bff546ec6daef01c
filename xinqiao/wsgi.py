import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinqiao.settings")
application = get_wsgi_application()

from xinqiao.deploy import refuse_unsafe_deploy  # noqa: E402

refuse_unsafe_deploy()
