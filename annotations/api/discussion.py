"""Members' threads and comments: the discussion of claims, verified claims and articles,
through the same services and under the same rules as the browser (blind review:
a thread or comment the member may not see is not found; nothing here reaches
partners, whose keys hold `read:claims` only).

Reading takes `read:annotations`, writing `write:annotations`: the discussion is
part of the newsroom's work on its claims.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.articles import member_user
from annotations.api.auth import request_organization
from annotations.api.errors import Conflict, ErrorSerializer
from annotations.api.serializers import MAX_ID, MAX_INTEGER, JsonBody
from annotations.discussion import services
from annotations.discussion.selectors import (
    ThreadView,
    article_threads,
    comment_for,
    discussable_claim,
    discussable_verified,
    thread_for,
    thread_view,
)
from annotations.models import (
    Article,
    ChangeRequestStatus,
    ClaimAnnotation,
    Comment,
    Scope,
    Thread,
    VerifiedClaim,
)

MAX_BODY = 10_000
TARGET_PATTERN = r"^(article|claim|verified)-[1-9][0-9]{0,17}$"


# Documents -------------------------------------------------------------------------


class QuoteSerializer(serializers.Serializer):
    start = serializers.IntegerField(
        min_value=0, max_value=MAX_INTEGER, help_text="Offset into the article's `text`."
    )
    end = serializers.IntegerField(
        min_value=0, max_value=MAX_INTEGER, help_text="Exclusive end offset."
    )
    text = serializers.CharField(read_only=True, help_text="The passage: text[start:end].")


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    thread = serializers.IntegerField(source="thread_id")
    author = serializers.CharField(source="author.username")
    body = serializers.CharField(help_text="As written; empty once deleted.")
    html = serializers.CharField(help_text="As shown: links and emphasis, sanitised.")
    quote = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(allow_null=True)
    deleted_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(QuoteSerializer(allow_null=True))
    def get_quote(self, comment: Comment) -> dict[str, Any] | None:
        if comment.quote_start is None:
            return None
        return {"start": comment.quote_start, "end": comment.quote_end, "text": comment.quote}


class ChangeRequestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ChangeRequestStatus.choices)
    reviewer = serializers.CharField(source="reviewer.username")
    requested_by = serializers.CharField(source="requested_by.username")
    created_at = serializers.DateTimeField()
    done_at = serializers.DateTimeField(allow_null=True)


class ThreadSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="thread.pk")
    article = serializers.IntegerField(source="thread.article_id")
    about = serializers.ChoiceField(
        choices=["article", "claim", "verified"],
        help_text="What the thread is about: the article, a reviewer's claim, a verified claim.",
    )
    claim = serializers.IntegerField(source="thread.claim_id", allow_null=True)
    verified = serializers.IntegerField(source="thread.verified_id", allow_null=True)
    created_by = serializers.CharField(source="thread.created_by.username")
    created_at = serializers.DateTimeField(source="thread.created_at")
    updated_at = serializers.DateTimeField(source="thread.updated_at")
    resolved_at = serializers.DateTimeField(source="thread.resolved_at", allow_null=True)
    resolved_by = serializers.SerializerMethodField()
    change_request = ChangeRequestSerializer(source="request", allow_null=True)
    comments = CommentSerializer(many=True, help_text="Those you may see, oldest first.")

    @extend_schema_field({**{"type": "string"}, "nullable": True})
    def get_resolved_by(self, document: dict[str, Any]) -> str | None:
        user = document["thread"].resolved_by
        return user.username if user is not None else None


class ThreadListSerializer(serializers.Serializer):
    article = serializers.IntegerField()
    results = ThreadSerializer(many=True)


class ThreadFilterSerializer(serializers.Serializer):
    article = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The article version's id."
    )


class CommentCreateSerializer(JsonBody):
    body = serializers.CharField(
        max_length=MAX_BODY,
        help_text="Text with **bold**, *italics*, links and @name mentions (a mention "
        "tells that member, if they may see the thread).",
    )
    quote = QuoteSerializer(
        required=False, allow_null=True, default=None, help_text="A passage of the article."
    )


class ThreadCreateSerializer(CommentCreateSerializer):
    target = serializers.RegexField(
        TARGET_PATTERN,
        max_length=30,
        help_text="`article-<id>`, `claim-<id>` (a reviewer's claim annotation) or "
        "`verified-<id>` (a verified claim).",
    )


class ChangeRequestCreateSerializer(CommentCreateSerializer):
    annotation = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The reviewer's claim annotation to send back."
    )


class ResolveSerializer(JsonBody):
    body = serializers.CharField(
        max_length=MAX_BODY,
        required=False,
        allow_blank=True,
        default="",
        help_text="A last comment, posted before the thread is resolved.",
    )


class CommentUpdateSerializer(JsonBody):
    body = serializers.CharField(max_length=MAX_BODY, required=False)


# Views ---------------------------------------------------------------------------


def _document(view: ThreadView) -> dict[str, Any]:
    thread = view.thread
    about = "claim" if thread.claim_id else "verified" if thread.verified_id else "article"
    return ThreadSerializer(
        {"thread": thread, "about": about, "request": view.request, "comments": view.comments}
    ).data


def _quote(data: dict[str, Any]) -> services.Quote:
    quote = data.get("quote")
    return services.Quote(quote["start"], quote["end"]) if quote else services.Quote()


def _visible_thread(request: Request, pk: int) -> Thread:
    thread = thread_for(member_user(request), pk)
    if thread is None or thread.organization_id != request_organization(request).pk:
        raise Http404
    return thread


def _conflict(error: services.StateConflict) -> Conflict:
    return Conflict(" ".join(error.messages))


CONFLICT = OpenApiResponse(
    ErrorSerializer, description="The thread is resolved, or the comment deleted, meanwhile."
)


class ThreadList(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ANNOTATIONS, "POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = ThreadSerializer

    @extend_schema(
        summary="List an article's threads",
        operation_id="threads_list",
        description=(
            "The threads on the article, its reviewers' claims and its verified claims that "
            "you may see, with their comments. Under blind review a reviewer sees the threads "
            "on their own claims and on the article, and in those only their own comments "
            "and the desk's, until they submit."
        ),
        parameters=[ThreadFilterSerializer],
        responses={200: ThreadListSerializer},
    )
    def get(self, request: Request) -> Response:
        filters = ThreadFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        article = Article.objects.filter(
            organization=request_organization(request), pk=filters.validated_data["article"]
        ).first()
        if article is None:
            raise Http404
        views = article_threads(member_user(request), article, claims=None, verified=None)
        return Response({"article": article.pk, "results": [_document(v) for v in views]})

    @extend_schema(
        summary="Start a thread",
        description=(
            "A thread on the article, a reviewer's claim or a verified claim, with its first "
            "comment. Something you may not see is not found (404)."
        ),
        request=ThreadCreateSerializer,
        responses={201: ThreadSerializer},
    )
    def post(self, request: Request) -> Response:
        given = ThreadCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        user = member_user(request)
        kind, _, raw = data["target"].partition("-")
        pk = int(raw)
        organization = request_organization(request)
        claim = verified = None
        if kind == "article":
            article = Article.objects.filter(organization=organization, pk=pk).first()
        elif kind == "claim":
            claim = _claim(request, pk)
            article = claim.article
        else:
            verified = _verified(request, pk)
            article = verified.article
        if article is None:
            raise Http404
        outcome = services.thread_start(
            user=user,
            article=article,
            claim=claim,
            verified=verified,
            body=data["body"],
            quote=_quote(data),
        )
        view = thread_view(user, outcome.comment.thread)
        return Response(_document(view), status=status.HTTP_201_CREATED)


def _claim(request: Request, pk: int) -> ClaimAnnotation:
    """A reviewer's claim of the newsroom that the member may discuss, or 404."""
    claim = (
        ClaimAnnotation.objects.filter(pk=pk, article__organization=request_organization(request))
        .select_related("article", "reviewer")
        .first()
    )
    found = claim and discussable_claim(member_user(request), claim.article, claim.pk)
    if not found:
        raise Http404
    return found


def _verified(request: Request, pk: int) -> VerifiedClaim:
    """A verified claim of the newsroom that the member may discuss, or 404."""
    claim = (
        VerifiedClaim.objects.filter(pk=pk, organization=request_organization(request))
        .select_related("article")
        .first()
    )
    found = claim and discussable_verified(member_user(request), claim.article, claim.pk)
    if not found:
        raise Http404
    return found


class ChangeRequestCreate(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = ThreadSerializer

    @extend_schema(
        summary="Request changes on a reviewer's claim",
        operation_id="change_requests_create",
        description=(
            "Editors only. Sends the claim back to its reviewer with a comment, in a thread of "
            "its own: their review is reopened if they had submitted it, and the request is "
            "in their queue until they mark it done (resolve the thread). 409 if the claim "
            "has an open request already."
        ),
        request=ChangeRequestCreateSerializer,
        responses={201: ThreadSerializer, 409: CONFLICT},
    )
    def post(self, request: Request) -> Response:
        given = ChangeRequestCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        user = member_user(request)
        claim = _claim(request, data["annotation"])
        try:
            outcome = services.thread_start(
                user=user,
                article=claim.article,
                claim=claim,
                body=data["body"],
                quote=_quote(data),
                request_changes=True,
            )
        except services.StateConflict as error:
            raise _conflict(error) from None
        except DjangoValidationError as error:
            # Who may send a claim back is a matter of role, not of what was sent.
            if "request_changes" in getattr(error, "error_dict", {}):
                raise DjangoPermissionDenied(
                    " ".join(error.message_dict["request_changes"])
                ) from None
            raise
        view = thread_view(user, outcome.comment.thread)
        return Response(_document(view), status=status.HTTP_201_CREATED)


class ThreadDetail(GenericAPIView):
    required_scopes = {"GET": Scope.READ_ANNOTATIONS}
    serializer_class = ThreadSerializer

    @extend_schema(summary="Read a thread", responses={200: ThreadSerializer})
    def get(self, request: Request, pk: int) -> Response:
        thread = _visible_thread(request, pk)
        return Response(_document(thread_view(member_user(request), thread)))


class ThreadComments(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = CommentSerializer

    @extend_schema(
        summary="Reply in a thread",
        operation_id="threads_comments_create",
        description="409 if the thread is resolved: reopen it first.",
        request=CommentCreateSerializer,
        responses={201: CommentSerializer, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _visible_thread(request, pk)
        given = CommentCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            outcome = services.comment_post(
                user=member_user(request), thread=thread, body=data["body"], quote=_quote(data)
            )
        except services.StateConflict as error:
            raise _conflict(error) from None
        return Response(CommentSerializer(outcome.comment).data, status=status.HTTP_201_CREATED)


class ThreadResolve(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = ThreadSerializer

    @extend_schema(
        summary="Resolve a thread (mark a request for changes done)",
        operation_id="threads_resolve",
        description=(
            "With an optional last comment. On a request for changes, only the claim's "
            "reviewer or an editor (403 otherwise); the editor who asked is told. Resolving "
            "a resolved thread changes nothing."
        ),
        request=ResolveSerializer,
        responses={200: ThreadSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _visible_thread(request, pk)
        given = ResolveSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = member_user(request)
        services.thread_resolve(user=user, thread=thread, body=given.validated_data["body"])
        return Response(_document(thread_view(user, thread)))


class ThreadReopen(GenericAPIView):
    required_scopes = {"POST": Scope.WRITE_ANNOTATIONS}
    serializer_class = ThreadSerializer

    @extend_schema(
        summary="Reopen a thread",
        operation_id="threads_reopen",
        description=(
            "A request for changes is open again (409 if the claim has another open one)."
        ),
        request=None,
        responses={200: ThreadSerializer, 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        thread = _visible_thread(request, pk)
        user = member_user(request)
        try:
            services.thread_reopen(user=user, thread=thread)
        except services.StateConflict as error:
            raise _conflict(error) from None
        return Response(_document(thread_view(user, thread)))


class CommentDetail(GenericAPIView):
    required_scopes = {
        "GET": Scope.READ_ANNOTATIONS,
        "PATCH": Scope.WRITE_ANNOTATIONS,
        "DELETE": Scope.WRITE_ANNOTATIONS,
    }
    serializer_class = CommentSerializer

    def visible(self, pk: int) -> Comment:
        comment = comment_for(member_user(self.request), pk)
        if (
            comment is None
            or comment.thread.organization_id != request_organization(self.request).pk
        ):
            raise Http404
        return comment

    @extend_schema(summary="Read a comment", responses={200: CommentSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(CommentSerializer(self.visible(pk)).data)

    @extend_schema(
        summary="Change your comment",
        description=(
            "Its author only (403 otherwise); the comment's history keeps the earlier words. "
            "Members mentioned for the first time are told. 409 once it is deleted."
        ),
        request=CommentUpdateSerializer,
        responses={200: CommentSerializer},
    )
    def patch(self, request: Request, pk: int) -> Response:
        comment = self.visible(pk)
        given = CommentUpdateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        body = given.validated_data.get("body")
        user = member_user(request)
        if body is not None:
            try:
                comment = services.comment_edit(user=user, comment=comment, body=body).comment
            except services.StateConflict as error:
                raise _conflict(error) from None
        elif comment.author_id != user.pk:
            raise DjangoPermissionDenied("Only its author can change a comment.")
        return Response(CommentSerializer(self.visible(comment.pk)).data)

    @extend_schema(
        summary="Delete your comment",
        description="Its author only. The thread keeps its place, marked deleted.",
        responses={204: None},
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.comment_delete(user=member_user(request), comment=self.visible(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
