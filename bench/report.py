"""Print the Markdown tables of the saved results (bench/results/*.json).

python -m bench.report
"""

from bench import cold, common, compare, dashboard, generate, invite, modes, submit


def main() -> None:
    print("Machine:", common.machine())
    saved = common.load("generate")
    if saved:
        print("\n## Generator\n")
        print(generate.report(saved["rows"]))
    saved = common.load("dashboard")
    if saved:
        print("\n## Dashboard\n")
        print(dashboard.report(saved["rows"]))
    saved = common.load("submit")
    if saved:
        print("\n## Submissions\n")
        print(submit.report(saved["rows"]))
    saved = common.load("submit-compare")
    if saved:
        print("\n## Submissions: peer, GapSurvey, floor\n")
        print(f"{saved.get('command', '')}; {saved['machine']}\n")
        print(compare.report(saved))
    saved = common.load("cold")
    if saved:
        print("\n## Cold workers\n")
        print(cold.report(saved))
    saved = common.load("modes")
    if saved:
        print("\n## Measurement modes\n")
        print(modes.report(saved["rows"]))
    saved = common.load("invite")
    if saved:
        print("\n## Invitations\n")
        print(invite.report(saved["rows"]))


if __name__ == "__main__":
    main()
