"""The collection page's forms: paste an article, upload files, assign reviewers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.models import User

from annotations.importing.parsers import SNIFF_BYTES, content_problem
from annotations.importing.services import MIXED_UPLOAD, upload_kind
from annotations.models import Collection


class PasteArticleForm(forms.Form):
    title = forms.CharField(max_length=500)
    url = forms.URLField(label="URL", required=False, assume_scheme="https")
    # The article's language decides its direction (Arabic, Hebrew… read right to left).
    language = forms.CharField(
        max_length=16,
        required=False,
        help_text="A language code such as en, fr, ar or he.",
        widget=forms.TextInput(attrs={"placeholder": "en", "size": 6}),
    )
    text = forms.CharField(strip=False, widget=forms.Textarea(attrs={"rows": 8}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes many files and cleans each one."""

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        clean_one = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        # No file at all still goes through the base field, which says it is required.
        return [clean_one(item, initial) for item in items or [None]]


class UploadArticlesForm(forms.Form):
    """Articles, or reviewers' claims from another tool (a .jsonl told apart by content)."""

    uploads = MultipleFileField(
        label="Files",
        widget=MultipleFileInput(attrs={"accept": ".txt,.html,.htm,.jsonl"}),
        help_text=(
            "Articles: .txt (title, blank line, text), .html or .jsonl; many at once. "
            "Claims from another tool: a .jsonl of claims or of W3C Web Annotations, "
            "once their articles are here."
        ),
    )

    def clean_uploads(self) -> list[Any]:
        uploads: list[Any] = self.cleaned_data["uploads"]
        too_big = [f.name for f in uploads if f.size > settings.WORKBENCH_MAX_UPLOAD_BYTES]
        if too_big:
            limit = settings.WORKBENCH_MAX_UPLOAD_BYTES // 1_000_000
            raise forms.ValidationError(f"Larger than {limit} MB: {', '.join(too_big)}.")
        # Judged by content before anything is stored: a refused file starts no job.
        problems = []
        for upload in uploads:
            head = upload.read(SNIFF_BYTES)
            upload.seek(0)
            problem = content_problem(upload.name, head, complete=upload.size <= SNIFF_BYTES)
            if problem is not None:
                where = f"{upload.name}:{problem.line}" if problem.line else upload.name
                problems.append(f"{where}: {problem.message}")
        if problems:
            raise forms.ValidationError(problems)
        if len({upload_kind(upload) for upload in uploads}) > 1:
            raise forms.ValidationError(MIXED_UPLOAD)
        return uploads


class AutoAssignForm(forms.Form):
    per_article = forms.IntegerField(min_value=1, max_value=20)

    def __init__(self, *args: Any, collection: Collection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["per_article"].initial = collection.reviewers_per_article


class AssignReviewersForm(forms.Form):
    """An article's reviewers, chosen by hand; the service checks they are members."""

    reviewers = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here: the service names those who are not members.
        posted = self.data.getlist("reviewers") if hasattr(self.data, "getlist") else []
        field = self.fields["reviewers"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(value, value) for value in posted if value.isdigit()]

    def clean_reviewers(self) -> list[User]:
        ids = self.cleaned_data["reviewers"]
        return list(User.objects.filter(pk__in=ids))
