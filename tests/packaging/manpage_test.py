#!/usr/bin/env python3
"""The manual pages render without warnings, and encfsr(1) documents what the binary offers.

    manpage_test.py ENCFSR BUILT_ENCFSR_1 ENCFSR_YAML_5

Checks: `man --warnings -l` prints nothing for either page; every command (nested ones too)
and every option of every command's --help, and every exit code of the --help footer, appear
in the rendered encfsr(1); its EXAMPLES section is not empty.
"""
import os
import re
import subprocess
import sys

FAILS = []


def check(ok, message):
    print(("ok   - " if ok else "FAIL - ") + message)
    if not ok:
        FAILS.append(message)


def render(page):
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    proc = subprocess.run(["man", "--warnings", "-l", "-E", "UTF-8", page], capture_output=True,
                          text=True, env=env, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def help_text(binary, words):
    return subprocess.run([binary, *words, "--help"], capture_output=True, text=True, timeout=30,
                          check=True).stdout


def sections(text):
    """{title: [entry lines]} of a CLI11 help text (stops at the exit code footer)."""
    out, title = {}, None
    for line in text.split("\n"):
        if line == "Exit codes:":
            break
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            out[title] = []
        elif title and line.startswith("  ") and line[2:3] != " ":
            out[title].append(line)
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: manpage_test.py ENCFSR ENCFSR_1 ENCFSR_YAML_5")
    binary, page1, page5 = sys.argv[1:]
    rendered = {}
    for page in (page1, page5):
        rc, out, err = render(page)
        check(rc == 0 and out.strip() != "", f"man -l {os.path.basename(page)} renders (exit {rc})")
        check(err.strip() == "", f"man --warnings -l {os.path.basename(page)} prints no warnings"
              + ("" if not err.strip() else ":\n" + err))
        rendered[page] = out
    # Rendered text: undo line-end hyphenation and join the lines for searching.
    text = re.sub(r"\s+", " ", rendered[page1].replace("\u2010", "-"))

    commands, todo = [], [[]]
    while todo:
        words = todo.pop(0)
        secs = sections(help_text(binary, words))
        for line in secs.get("Subcommands", []):
            todo.append([*words, line.split()[0]])
        commands.append((words, secs))
    check(len(commands) >= 9, f"found {len(commands) - 1} commands in the --help texts")
    for words, secs in commands:
        name = " ".join(words) or "(global)"
        if words:
            check(re.search(r"\bencfsr " + re.escape(" ".join(words)) + r"\b", text) is not None,
                  f"encfsr(1) documents the command 'encfsr {name}'")
        flags = []
        for title, entries in secs.items():
            if title == "Subcommands":
                continue
            for line in entries:
                first = line.split()[0]
                flags.extend(re.sub(r"\{[^}]*\}$", "", f) for f in first.split(",")
                             if f.startswith("-"))
        missing = [f for f in flags if re.search(r"(?<![\w-])" + re.escape(f) + r"(?![\w-])",
                                                  text) is None]
        check(not missing, f"encfsr(1) documents every option of {name} ({len(flags)})"
              + (f": missing {missing}" if missing else ""))

    top = help_text(binary, [])
    codes = re.findall(r"^\s*(\d+)\s+(\S.*)$", top.split("Exit codes:", 1)[1], re.M)
    check(len(codes) >= 9, f"the --help footer lists {len(codes)} exit codes")
    exit_section = text.split("EXIT STATUS", 1)[1].split("ENVIRONMENT", 1)[0]
    for code, meaning in codes:
        words = meaning.split()[:3]
        check(re.search(r"\b" + code + r" " + re.escape(" ".join(words)), exit_section) is not None,
              f"EXIT STATUS lists {code} ({meaning})")
    examples = text.split("EXAMPLES", 1)[1].split("SEE ALSO", 1)[0] if "EXAMPLES" in text else ""
    check(examples.count("encfsr ") >= 5, "encfsr(1) has EXAMPLES")
    if FAILS:
        print(f"== manpage_test.py: {len(FAILS)} check(s) FAILED")
        return 1
    print("== manpage_test.py: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
