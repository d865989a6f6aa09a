"""The benchmark's URLconf (bench/settings.py): the app's URLs and, first, the
floor view (bench/floor.py) that only the benchmarks serve."""

from django.urls import include, path

from bench.floor import floor_submit

urlpatterns = [
    path("bench/floor/<int:study_id>/", floor_submit, name="bench_floor"),
    path("", include("gapsurvey.urls")),
]
