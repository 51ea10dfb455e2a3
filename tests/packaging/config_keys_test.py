#!/usr/bin/env python3
"""Every key that config/config.cc accepts is documented in encfsr.yaml(5), and every key the
page documents is accepted.

    config_keys_test.py config/config.cc packaging/man/encfsr.yaml.5

The accepted keys are the lists given to read_map() in config.cc (one list per map: the top
level, each source, mount); a documented key is a .TP item whose first line is
".BR KEY ..." or ".B KEY".
"""
import re
import sys


def accepted_keys(source):
    calls = re.findall(r"read_map\(\s*[^,]+,\s*([^,]+?),\s*\{([^}]*)\}", source, re.S)
    keys = set()
    for _, body in calls:
        keys.update(re.findall(r'"([a-z_]+)"', body))
    return calls, keys


def documented_keys(page):
    return set(re.findall(r"^\.TP\n\.BR? ([a-z_]+)\b", page, re.M))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: config_keys_test.py CONFIG_CC MANPAGE")
    with open(sys.argv[1], encoding="utf-8") as f:
        calls, accepted = accepted_keys(f.read())
    with open(sys.argv[2], encoding="utf-8") as f:
        documented = documented_keys(f.read())
    # Guard against a parse that finds nothing (a renamed function would pass vacuously).
    if len(calls) < 3 or len(accepted) < 15:
        print(f"FAIL: found only {len(calls)} read_map lists / {len(accepted)} keys in "
              f"{sys.argv[1]}: has the parser gone out of date?")
        return 1
    rc = 0
    for key in sorted(accepted - documented):
        print(f"FAIL: key '{key}' is accepted by {sys.argv[1]} but not documented in "
              f"{sys.argv[2]}")
        rc = 1
    for key in sorted(documented - accepted):
        print(f"FAIL: key '{key}' is documented in {sys.argv[2]} but not accepted by "
              f"{sys.argv[1]}")
        rc = 1
    if rc == 0:
        print(f"ok: all {len(accepted)} keys documented: {', '.join(sorted(accepted))}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
