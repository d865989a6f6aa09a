from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        from analysis import tasks
        from surveys.signals import snapshot_published

        snapshot_published.connect(
            tasks.snapshot_published, dispatch_uid="analysis-results-build"
        )
