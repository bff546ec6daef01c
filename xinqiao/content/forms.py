"""Forms of the education staff pages. Validation of meaning lives in ``actions`` (the form
only shapes input); errors from actions come back onto the named fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinqiao.content.actions import ArticleText
from xinqiao.content.models import Article, Kind, Status, Topic
from xinqiao.people.models import TargetGroup


class ArticleForm(forms.Form):
    unit = forms.ChoiceField(label=_("Shown on the portals of"), required=True)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    summary_zh = forms.CharField(
        label=_("Summary (Chinese)"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    summary_en = forms.CharField(
        label=_("Summary (English)"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body_zh = forms.CharField(
        label=_("Text (Chinese)"),
        required=False,
        max_length=60000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "Simple HTML: paragraphs, headings h2/h3, lists, bold, italics, quotations and "
            "links. Anything else is removed when saved."
        ),
    )
    body_en = forms.CharField(
        label=_("Text (English)"),
        required=False,
        max_length=60000,
        widget=forms.Textarea(attrs={"rows": 12}),
    )
    topics = forms.MultipleChoiceField(
        label=_("Topics"),
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.MultipleChoiceField(
        label=_("Target groups"),
        choices=TargetGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, units: list[Any], show_unit: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        unit_field = self.fields["unit"]
        if isinstance(unit_field, forms.ChoiceField):
            unit_field.choices = [(str(u.pk), u.full_name) for u in units]
        if not show_unit:
            del self.fields["unit"]

    def text(self) -> ArticleText:
        data = self.cleaned_data
        return ArticleText(
            title_zh=data.get("title_zh", ""),
            title_en=data.get("title_en", ""),
            summary_zh=data.get("summary_zh", ""),
            summary_en=data.get("summary_en", ""),
            body_zh=data.get("body_zh", ""),
            body_en=data.get("body_en", ""),
            transcript_zh=data.get("transcript_zh", ""),
            transcript_en=data.get("transcript_en", ""),
            topics=list(data.get("topics") or []),
            groups=list(data.get("groups") or []),
            link_url=data.get("link_url", "") or "",
            duration_minutes=data.get("duration_minutes"),
        )


class LessonForm(ArticleForm):
    media_file = forms.FileField(
        label=_("Video or audio file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "video/*,audio/*"}),
        help_text=_("MP4, M4A, WebM, Ogg, MP3, WAV or AAC. Or give a link below."),
    )
    remove_media = forms.BooleanField(label=_("Remove the uploaded file"), required=False)
    link_url = forms.CharField(
        label=_("Or a link to the video or audio (https://…)"), max_length=500, required=False
    )
    duration_minutes = forms.IntegerField(
        label=_("Length in minutes"), min_value=1, max_value=600, required=False
    )
    transcript_zh = forms.CharField(
        label=_("Transcript (Chinese)"),
        required=False,
        max_length=60000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Required in at least one language, for those who cannot hear or watch."),
    )
    transcript_en = forms.CharField(
        label=_("Transcript (English)"),
        required=False,
        max_length=60000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args: Any, has_media: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not has_media:
            del self.fields["remove_media"]


def initial_for(article: Article) -> dict[str, Any]:
    return {
        "unit": str(article.unit_id or ""),
        "title_zh": article.title_zh,
        "title_en": article.title_en,
        "summary_zh": article.summary_zh,
        "summary_en": article.summary_en,
        "body_zh": article.body_zh,
        "body_en": article.body_en,
        "transcript_zh": article.transcript_zh,
        "transcript_en": article.transcript_en,
        "topics": article.topic_list,
        "groups": article.group_list,
        "link_url": article.link_url,
        "duration_minutes": article.duration_minutes,
    }


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class FilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("All")), *Kind.choices], required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *Status.choices], required=False
    )
    topic = forms.ChoiceField(
        label=_("Topic"), choices=[("", _("All")), *Topic.choices], required=False
    )
