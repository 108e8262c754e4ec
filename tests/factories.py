from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from annotations import models
from annotations.newsrooms.services import taxonomy_ensure_default

ARTICLE_TEXT = (
    "The minister said the army would reposition its forces before Friday.\n"
    "Rebels said they wanted to give peace a chance.\n"
    "Observers counted 400 km between the two towns — a “long” way 🚙."
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Newsroom {n}")
    slug = factory.Sequence(lambda n: f"newsroom-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = models.Role.REVIEWER


class CollectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Collection

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Collection {n}")
    slug = factory.Sequence(lambda n: f"collection-{n}")
    taxonomy = factory.LazyAttribute(lambda o: taxonomy_ensure_default(organization=o.organization))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Article

    collection = factory.SubFactory(CollectionFactory)
    organization = factory.LazyAttribute(lambda o: o.collection.organization)
    title = factory.Sequence(lambda n: f"Article {n}")
    url = factory.Sequence(lambda n: f"https://news.example/{n}")
    text = ARTICLE_TEXT
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
