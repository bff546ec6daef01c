"""Staff pages of the hotline app: calls and roster (views), the mailbox queue
(mailbox_views), trends, summaries and emerging-issue reports (trends_views)."""

from xinqiao.hotline import mailbox_views, trends_views, views

app_name = "hotline"

urlpatterns = views.urlpatterns + mailbox_views.urlpatterns + trends_views.urlpatterns
