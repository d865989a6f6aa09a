"""Serve plotly.js from the copy shipped inside the plotly package, never a CDN."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC_PATH = "plotly/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds exactly one file, `plotly/plotly.min.js`, in the installed package."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != STATIC_PATH:
            # An empty list, as Django's own finders give: `finders.find` keeps
            # any other result, so None would come back as [None] and WhiteNoise
            # (serving through the finders when DEBUG is on) would answer a
            # missing file with a 500 instead of a 404.
            return []
        found = str(PLOTLY_JS)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        storage = FileSystemStorage(location=str(PLOTLY_JS.parent))
        storage.prefix = "plotly"
        yield PLOTLY_JS.name, storage
