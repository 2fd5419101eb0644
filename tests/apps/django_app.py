"""A single-file Django project served by gunicorn."""

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    SECRET_KEY="test-only-not-secret",
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
)
django.setup()


def get_item(request: HttpRequest, item_id: int) -> JsonResponse:
    return JsonResponse({"id": item_id})


def boom(request: HttpRequest) -> JsonResponse:
    raise ValueError("handler failure")


urlpatterns = [
    path("items/<int:item_id>", get_item),
    path("boom", boom),
]

from django.core.wsgi import get_wsgi_application  # noqa: E402

import watchkeeper  # noqa: E402

application = watchkeeper.instrument(get_wsgi_application())
