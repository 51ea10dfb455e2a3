#!/usr/bin/env python3
"""Builds encfsr(1) from the built binary's help texts and a hand-written template.

    gen_manpage.py ENCFSR TEMPLATE OUTPUT

The template (encfsr.1.in) holds the hand-written sections; these placeholders are replaced:
  @VERSION@       the version printed by `ENCFSR --version`
  @SYNOPSIS@      one usage line per command
  @COMMANDS@      a subsection per command (found in the "Subcommands:" lists of the help
                  texts, nested ones included): its description, arguments and options
  @GLOBAL_OPTIONS@ the options of `ENCFSR --help`
  @EXIT_STATUS@   the exit code table (the footer of `ENCFSR --help`)
So a command or option added to the program appears in the manual at the next build.
"""
import re
import subprocess
import sys

FOOTER = "Exit codes:"


def run_help(binary, words):
    proc = subprocess.run([binary, *words, "--help"], capture_output=True, text=True,
                          timeout=30, check=False)
    if proc.returncode != 0:
        sys.exit(f"gen_manpage: '{' '.join([binary, *words])} --help' exited "
                 f"{proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def parse_help(text):
    """CLI11's help: description, "Usage:" line, sections of entries, the footer."""
    lines = text.rstrip("\n").split("\n")
    description, usage = [], ""
    sections = []  # (title, [(name, description)])
    footer = []
    i = 0
    while i < len(lines) and not lines[i].startswith("Usage:"):
        if lines[i].strip():
            description.append(lines[i].strip())
        i += 1
    if i == len(lines):
        sys.exit("gen_manpage: no 'Usage:' line in a help text")
    usage = lines[i][len("Usage:"):].strip()
    i += 1
    while i < len(lines):
        line = lines[i]
        if line == FOOTER:
            footer = lines[i + 1:]
            break
        if line and not line.startswith(" ") and line.endswith(":"):
            sections.append((line[:-1], []))
        elif line.startswith("  ") and line[2] != " ":
            if not sections:
                sys.exit(f"gen_manpage: entry outside a section: {line!r}")
            # The name column is 30 characters wide; a longer name puts the text on the next
            # line.
            name, text = line[2:30].rstrip(), line[30:].strip()
            if len(line) > 30 and line[29] != " " and line[30:31] != " ":
                name, text = line[2:].strip(), ""
            sections[-1][1].append([name, text])
        elif line.startswith(" " * 30) and sections and sections[-1][1]:
            entry = sections[-1][1][-1]
            entry[1] = (entry[1] + " " + line.strip()).strip()
        elif line.strip():
            sys.exit(f"gen_manpage: unexpected help line: {line!r}")
        i += 1
    return {"description": " ".join(description), "usage": usage, "sections": sections,
            "footer": footer}


def esc(text):
    """Roff-escapes running text: backslashes, and hyphens of options (\\-)."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"(?<![\w-])(-{1,2})(?=[\w])", lambda m: "\\-" * len(m.group(1)), text)
    return text


def line_start(text):
    return "\\&" + text if text[:1] in (".", "'") else text


def entry_name(name):
    """'--key FILE REQUIRED' -> bold flags, italic metavariables, the rest plain."""
    out = []
    for word in name.split(" "):
        if re.match(r"^-[-\w]", word):
            # CLI11 shows a negated flag's value ("--no-progress{false}"): not part of the name.
            flags = [re.sub(r"\{[^}]*\}$", "", p) for p in word.split(",")]
            out.append(",".join(f"\\fB{esc(p)}\\fR" for p in flags))
        elif re.match(r"^[A-Z]", word) and word not in ("REQUIRED", "Excludes:"):
            out.append(f"\\fI{esc(word)}\\fR")
        else:
            out.append(esc(word))
    return " ".join(out)


def commands_of(binary, words, found):
    info = parse_help(run_help(binary, words))
    found.append((words, info))
    for title, entries in info["sections"]:
        if title == "Subcommands":
            for name, _ in entries:
                commands_of(binary, [*words, name], found)
    return found


def render_sections(info, skip_help=True):
    out = []
    for title, entries in info["sections"]:
        if title == "Subcommands":
            continue
        shown = [(n, t) for n, t in entries if not (skip_help and n.startswith("-h,--help"))]
        if not shown:
            continue
        out.append(f".PP\n\\fI{esc(title)}:\\fR")
        for name, text in shown:
            out.append(f".TP\n{line_start(entry_name(name))}")
            if text:
                out.append(line_start(esc(text)))
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_manpage.py ENCFSR TEMPLATE OUTPUT")
    binary, template, output = sys.argv[1:]
    version_text = subprocess.run([binary, "--version"], capture_output=True, text=True,
                                  timeout=30, check=True).stdout
    m = re.match(r"encfsr (\S+)", version_text)
    if not m:
        sys.exit(f"gen_manpage: unexpected --version output {version_text!r}")
    version = m.group(1)
    found = commands_of(binary, [], [])
    top = found[0][1]
    if not top["footer"]:
        sys.exit("gen_manpage: no exit code table in the help footer")

    synopsis, commands = [], []
    for words, info in found[1:]:
        name = " ".join(words)
        prefix = f"encfsr {name}"
        if not info["usage"].startswith(prefix):
            sys.exit(f"gen_manpage: usage line {info['usage']!r} does not start with {prefix!r}")
        call = f"\\fBencfsr {esc(name)}\\fR {esc(info['usage'][len(prefix):].strip())}".rstrip()
        subs = [" ".join(w) for w, _ in found if len(w) == len(words) + 1 and w[:-1] == words]
        if not subs:
            synopsis.append(call)
        commands.append(f".SS {esc(name)}")
        commands.append(call)
        commands.append(".PP")
        commands.append(line_start(esc(info["description"])))
        if subs:
            commands.append(".PP\nSubcommands (below): " +
                            ", ".join(f"\\fB{esc(s)}\\fR" for s in subs) + ".")
        commands.extend(render_sections(info))

    exit_rows = []
    for row in top["footer"]:
        m = re.match(r"^\s*(\d+)\s+(.*)$", row)
        if m:
            exit_rows.append(f".TP\n.B {m.group(1)}\n{line_start(esc(m.group(2)))}")
        elif row.strip():
            sys.exit(f"gen_manpage: unexpected exit code line {row!r}")

    with open(template, encoding="utf-8") as f:
        page = f.read()
    replacements = {
        "@VERSION@": version,
        "@SYNOPSIS@": "\n.br\n".join(synopsis),
        "@COMMANDS@": "\n".join(commands),
        "@GLOBAL_OPTIONS@": "\n".join(render_sections(top, skip_help=False)),
        "@EXIT_STATUS@": "\n".join(exit_rows),
    }
    for key, value in replacements.items():
        if key not in page:
            sys.exit(f"gen_manpage: {key} missing from {template}")
        page = page.replace(key, value)
    with open(output, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
