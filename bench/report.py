"""Print the Markdown tables of the saved results (bench/results/*.json).

python -m bench.report
"""

from bench import common, dashboard, generate, invite, submit


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
    saved = common.load("invite")
    if saved:
        print("\n## Invitations\n")
        print(invite.report(saved["rows"]))


if __name__ == "__main__":
    main()
