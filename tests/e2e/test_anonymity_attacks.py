"""The anonymity attacks, scripted against the live server with a manager's
login (scripts/attacks/anonymity.py), recover nothing: before and after one
more customer answers, across every filter, both exports and every contact's
data-rights export."""

import contextlib
import io
import json
import urllib.parse
import urllib.request

from scripts.attacks import anonymity
from tests.e2e.test_manager_journey import CUSTOMER_LEVEL, STAFF_LEVEL, chosen

MANAGER = "eve@attack.example"
PASSWORD = "a-long-attacker-passphrase"


def run(arguments: list[str]) -> tuple[int, dict]:
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = anonymity.main(arguments)
    return code, json.loads(output.getvalue())


def test_the_scripted_attacks_recover_nothing_from_a_live_server(app, tmp_path):
    staff = [
        {
            "email": f"staff{r}@attack.example",
            "department": "Front desk" if r < 6 else "Claims" if r < 11 else "Billing",
            "answers": chosen(STAFF_LEVEL, 0, r),
        }
        for r in range(13)
    ]
    customers = [
        {
            "email": f"customer{r}@attack-clients.example",
            "segment": "Retail" if r < 6 else "Wholesale",
            "answers": chosen(CUSTOMER_LEVEL, 0, r),
        }
        for r in range(8)
    ]
    newcomer = "newcomer@attack-clients.example"
    seeded = app.seed(
        "study_with_answers",
        name="Attack Co",
        manager=MANAGER,
        password=PASSWORD,
        study="Attack wave",
        min_group_size=5,
        staff=staff,
        customers=customers,
        pending=[{"email": newcomer, "segment": "Wholesale"}],
    )
    base = [
        "--url",
        app.url,
        "--email",
        MANAGER,
        "--password",
        PASSWORD,
        "--study",
        str(seeded["study_id"]),
        "--min-group-size",
        "5",
    ]
    saved = tmp_path / "before.json"
    code, first = run([*base, "--save", str(saved)])
    assert (code, first["recovered"]) == (0, [])
    # The script did try: every filter (some refused) and every contact.
    assert first["tried"]["cuts"] == 5 and first["tried"]["refused"] >= 2
    assert first["tried"]["contacts"] == 9

    # One more customer answers through their link.
    form = {f"item_{item['id']}": "1" for item in seeded["items"]}
    request = urllib.request.Request(
        f"{app.url}/s/{seeded['tokens'][newcomer]}/",
        data=urllib.parse.urlencode(form).encode(),
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert "/thanks/" in response.url

    code, second = run([*base, "--against", str(saved)])
    assert (code, second["recovered"]) == (0, [])
