from django.urls import path

from surveys.views import cases

urlpatterns = [
    path(
        "studies/<int:study_id>/follow-up/",
        cases.followup_rules,
        name="followup_rules",
    ),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/mine/", cases.my_cases, name="my_cases"),
    path("cases/<int:case_id>/", cases.case_detail, name="case_detail"),
    path("cases/<int:case_id>/note/", cases.case_note, name="case_note"),
    path("cases/<int:case_id>/status/", cases.case_status, name="case_status"),
    path("cases/<int:case_id>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:case_id>/action/", cases.case_action, name="case_action"),
]
