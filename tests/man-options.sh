#!/bin/sh
# man-options.sh -- doc/assay.1 and the help agree: every option `assay
# --help` and each `assay COMMAND --help` lists is documented in assay(1)
# where it belongs (OPTIONS, or under its command in COMMANDS, and in the
# SYNOPSIS), and every option assay(1) documents is in the help.
set -u
exec "${PYTHON3:-python3}" - "$top_builddir/assay" "$top_srcdir/doc/assay.1" <<'PY'
import re, subprocess, sys

assay, page = sys.argv[1:]
COMMANDS = ["run", "check-config", "graph", "plugins", "help"]
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])")
HELP = {"-h", "--help"}


def roff_text(line):
    """A roff line as text: no font escapes, no quotes, `\-` as `-`."""
    line = re.sub(r"\\f[BIRP]", "", line).replace("\\-", "-").replace("\\&", "")
    return re.sub(r"^\.\w+\s*", "", line).replace('"', "")


def help_options(text):
    """Options in the "options:" lists of a help text, by the option column
    (the description after it may name other options)."""
    found, listing = set(), False
    for line in text.splitlines():
        if line.endswith(":") and not line.startswith(" "):
            listing = line == "options:"
            continue
        m = re.match(r"^ {2,}((?:-\w, )?--[a-z-]+(?: [A-Z][A-Z:]*)?|-\w)(?: {2,}|$)", line)
        if m and (listing or line.startswith("      -") or line.startswith("  -")):
            found |= set(OPTION.findall(m.group(1)))
    return found


def run(*args):
    p = subprocess.run([assay, *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: assay {' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


def man_sections(lines):
    sections, name = {}, None
    for line in lines:
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            sections[name] = []
        elif name:
            sections[name].append(line)
    return sections


def tp_options(lines):
    """Options in the headers of .TP items at the top level of lines."""
    found, depth = set(), 0
    for i, line in enumerate(lines):
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        elif line.startswith(".TP") and depth == 0 and i + 1 < len(lines):
            found |= set(OPTION.findall(roff_text(lines[i + 1])))
    return found


def command_blocks(lines):
    """COMMANDS: each command's header line and the lines of its item."""
    blocks, cmd, depth = {}, None, 0
    for i, line in enumerate(lines):
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        if line.startswith(".TP") and depth == 0 and i + 1 < len(lines):
            words = roff_text(lines[i + 1]).split()
            if words and words[0] in COMMANDS:
                cmd = words[0]
                blocks[cmd] = (roff_text(lines[i + 1]), [])
                continue
        if cmd and not (line.startswith(".TP") and depth == 0):
            blocks[cmd][1].append(line)
    return blocks


def block_options(lines):
    """The options of a command's item: the .TP headers of its .RS lists."""
    found, depth = set(), 0
    for i, line in enumerate(lines):
        if line.startswith(".RS"):
            depth += 1
        elif line.startswith(".RE"):
            depth -= 1
        elif line.startswith(".TP") and depth == 1 and i + 1 < len(lines):
            found |= set(OPTION.findall(roff_text(lines[i + 1])))
    return found


def synopsis(lines):
    """Each command's options in the SYNOPSIS (chunks between .br)."""
    found, chunk = {}, []
    for line in lines + [".br"]:
        if line.startswith(".br"):
            text = " ".join(roff_text(l) for l in chunk)
            words = [w for w in text.split() if w in COMMANDS]
            if words:
                found.setdefault(words[0], set()).update(OPTION.findall(text))
            chunk = []
        else:
            chunk.append(line)
    return found


failures = []


def same(what, helped, documented):
    if helped - documented:
        failures.append(f"{what}: in the help, not in assay(1): {sorted(helped - documented)}")
    if documented - helped:
        failures.append(f"{what}: in assay(1), not in the help: {sorted(documented - helped)}")


lines = open(page).read().splitlines()
sections = man_sections(lines)
blocks = command_blocks(sections["COMMANDS"])
syn = synopsis(sections["SYNOPSIS"])

main_help = run("--help")
all_help = set(OPTION.findall(" ".join(
    m.group(1) for m in re.finditer(r"^ {2,}((?:-\w, )?--[a-z-]+(?: [A-Z][A-Z:]*)?|-\w)(?: {2,}|$)",
                                    main_help, re.M))))
global_help = help_options(main_help.split("\noptions:\n", 1)[1])
same("global options (OPTIONS)", global_help, tp_options(sections["OPTIONS"]))
documented = set(tp_options(sections["OPTIONS"]))
for cmd in COMMANDS:
    if cmd not in blocks:
        failures.append(f"{cmd}: not in COMMANDS")
        continue
    helped = help_options(run(cmd, "--help")) - HELP
    if run("help", cmd) != run(cmd, "--help"):
        failures.append(f"{cmd}: `assay help {cmd}` and `assay {cmd} --help` differ")
    header, body = blocks[cmd]
    in_block = block_options(body)
    same(f"{cmd} (COMMANDS)", helped, in_block)
    if set(OPTION.findall(header)) - in_block:
        failures.append(f"{cmd}: its COMMANDS header names undocumented options")
    longs = {o for o in helped if o.startswith("--")}
    same(f"{cmd} (SYNOPSIS, long options)", longs, {o for o in syn.get(cmd, set()) if o.startswith("--")})
    documented |= in_block
same("assay --help, all of it", all_help, documented)
for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"man-options: {len(documented)} options agree")
PY
