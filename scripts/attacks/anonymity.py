"""Play a manager's anonymity attacks against a running GapSurvey.

    python -m scripts.attacks.anonymity --url http://127.0.0.1:8000 \\
        --email manager@example.org --password ... --study 3 --save before.json
    # … wait until someone else answers …
    python -m scripts.attacks.anonymity ... --study 3 --against before.json

With a manager's login only (what any manager has), it tries:

1. over time: the gap table now against a saved earlier one — an item whose n
   grew by 1 to K−1 gives away the newcomers' answers (n·mean after − before);
2. by complement and subtraction across cuts: the whole study's n per item
   minus every department's and segment's that can be filtered on;
3. across exports: the gap table's n per item minus the answers in the
   anonymized export, and any hidden group's size printed on the dashboard;
4. re-grouping is left to the test suite (it deletes departments);
5. the data-rights export: a contact's answers or comment in what a manager
   downloads.

It prints what it recovered as JSON and exits 1 when it recovered anything.
Traffic goes only to the given URL; every loop is bounded.
"""

import argparse
import csv
import http.cookiejar
import io
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

MAX_CUTS = 200
MAX_CONTACTS = 50


class Session:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar)
        )

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode("utf-8-sig")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def log_in(self, email: str, password: str) -> None:
        _, page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        data = urllib.parse.urlencode(
            {
                "username": email,
                "password": password,
                "csrfmiddlewaretoken": token.group(1) if token else "",
            }
        ).encode()
        request = urllib.request.Request(
            self.base + "/accounts/login/",
            data=data,
            headers={"Referer": self.base + "/accounts/login/"},
        )
        with self.opener.open(request, timeout=30) as response:
            if "/accounts/login/" in response.url:
                raise SystemExit("Login failed: check the email and password.")


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def item_counts(table: list[dict], audience: str) -> dict:
    """(n, mean) per item position of one audience, where shown."""
    found = {}
    for row in table:
        n = number(row.get(f"{audience}_n"))
        if row.get("level") == "item" and n is not None:
            found[row["item_position"]] = (n, number(row[f"{audience}_mean"]))
    return found


def cut_options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    if not select:
        return []
    return [v for v in re.findall(r'<option value="(\d+)"', select.group(0))][:MAX_CUTS]


def attack(session: Session, study: int, k: int, saved: dict | None) -> dict:
    report: dict = {"recovered": [], "tried": {"cuts": 0, "refused": 0, "contacts": 0}}
    status, text = session.get(f"/studies/{study}/export/gaps.csv")
    if status != 200:
        raise SystemExit(f"Cannot export study {study}: HTTP {status}")
    table = rows(text)
    report["gap_table"] = table

    def found(attack_name: str, detail) -> None:
        report["recovered"].append({"attack": attack_name, "detail": detail})

    # 1. Over time.
    if saved is not None:
        for audience, noun in (("staff", "staff"), ("customers", "customers")):
            now = item_counts(table, audience)
            before = item_counts(saved["gap_table"], audience)
            for position, (n, mean) in now.items():
                if position not in before or mean is None:
                    continue
                n0, mean0 = before[position]
                if 0 < n - n0 < k and mean0 is not None:
                    found(
                        "over time",
                        f"{noun} item {position}: {int(n - n0)} newcomer(s) summed "
                        f"{n * mean - n0 * mean0:.2f}",
                    )

    # 2. Complement and subtraction across cuts.
    _, page = session.get(f"/studies/{study}/dashboard/")
    for name, audience in (("department", "staff"), ("segment", "customers")):
        total = item_counts(table, audience)
        covered = dict.fromkeys(total, 0.0)
        for option in cut_options(page, name):
            status, text = session.get(
                f"/studies/{study}/export/gaps.csv?{name}={option}"
            )
            report["tried"]["cuts"] += 1
            if status != 200:
                report["tried"]["refused"] += 1
                continue  # refused: the filter would isolate a small group
            for position, (n, _) in item_counts(rows(text), audience).items():
                covered[position] = covered.get(position, 0.0) + n
        for position, (n, _) in total.items():
            if 0 < n - covered.get(position, 0.0) < k:
                found(
                    "complement",
                    f"{audience} item {position}: the rest of the study is "
                    f"{int(n - covered[position])} people",
                )

    # 3. Across exports, and sizes printed on the page.
    status, text = session.get(f"/studies/{study}/export/answers.csv")
    answers = rows(text) if status == 200 else []
    for audience, key in (("staff", "internal"), ("customers", "customer")):
        for position, (n, _) in item_counts(table, audience).items():
            exported = sum(
                1
                for r in answers
                if r["audience"] == key and r["item"] == position and r["value"]
            )
            if 0 < n - exported < k:
                found(
                    "across exports",
                    f"{audience} item {position}: gap table minus answers export "
                    f"is {int(n - exported)} answer(s)",
                )
    for match in re.findall(r"fewer than \d+[^<\"]{0,20}\(n = \d+\)", page):
        found("hidden size printed", match)

    # 5. The data-rights export.
    _, contacts = session.get("/contacts/")
    ids = list(dict.fromkeys(re.findall(r"/contacts/(\d+)/edit/", contacts)))
    for contact in ids[:MAX_CONTACTS]:
        status, text = session.get(f"/contacts/{contact}/export/")
        report["tried"]["contacts"] += 1
        if status == 200 and ('"answers"' in text or '"comment"' in text):
            found("data-rights export", f"contact {contact}: answers in the export")
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--study", type=int, required=True)
    parser.add_argument("--min-group-size", type=int, default=5)
    parser.add_argument("--save", help="write this state to a file, for later")
    parser.add_argument("--against", help="an earlier state saved with --save")
    args = parser.parse_args(argv)
    session = Session(args.url)
    session.log_in(args.email, args.password)
    saved = None
    if args.against:
        with open(args.against, encoding="utf-8") as handle:
            saved = json.load(handle)
    report = attack(session, args.study, args.min_group_size, saved)
    if args.save:
        with open(args.save, "w", encoding="utf-8") as handle:
            json.dump({"gap_table": report["gap_table"]}, handle)
    print(
        json.dumps(
            {"recovered": report["recovered"], "tried": report["tried"]}, indent=2
        )
    )
    return 1 if report["recovered"] else 0


if __name__ == "__main__":
    sys.exit(main())
