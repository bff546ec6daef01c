"""Staff pages of the hotline app: calls and roster (views), the mailbox queue
(mailbox_views), trends, summaries and emerging-issue reports (trends_views)."""

from xinqiao.hotline import callback_views, mailbox_views, trends_views, views

app_name = "hotline"

urlpatterns = (
    views.urlpatterns
    + mailbox_views.urlpatterns
    + trends_views.urlpatterns
    # The call-back queue of the portal (issue #8).
    + callback_views.urlpatterns
)
