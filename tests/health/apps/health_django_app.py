"""A single-file Django project + watchkeeper health, for gunicorn."""

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__,
                   SECRET_KEY="test-only-not-secret", MIDDLEWARE=[])
django.setup()


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"hello": "world"})


urlpatterns = [path("hello", hello)]

from django.core.wsgi import get_wsgi_application  # noqa: E402
from health_common import breaker  # noqa: E402, F401 - registers checks

import watchkeeper  # noqa: E402

application = watchkeeper.instrument(get_wsgi_application())
