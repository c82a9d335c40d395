#!/usr/bin/env python3
"""merge-config.py DECLARED_YAML EXISTING_YAML OUTPUT

Merges the config.yaml the stack declares into the config.yaml on disk, with the NixOS module's rules
(nix/configMergeScript.nix, checked by its config-roundtrip scenarios):

- keys declared by the stack win;
- keys that exist only on disk (added by the agent, by hermes' own migrations or by hand) are kept;
- nested maps merge deeply; lists are replaced as a whole;
- mcp_servers merge by server name: a declared server replaces the same-named server on disk as a whole (a switch
  from command to url leaves no stale keys behind), servers only on disk are kept;
- a missing EXISTING file means the result is DECLARED;
- an EXISTING file that is not a YAML mapping is copied next to it as <name>.invalid-<UTC timestamp>, a warning
  goes to stderr, and it is treated as absent (a broken file must not block a deploy, nor be lost).

The output is yaml.safe_dump with sorted keys and no line wrapping, so the same inputs always give the same bytes:
write-agent-files.sh compares bytes to decide whether anything changed.

Runs as `python3 merge-config.py ...` or as `python3 -c "$MERGE_CONFIG_PY" ...` (the remote command passes this
text in an environment variable), so nothing here may depend on the path of this file. Needs PyYAML (Debian:
python3-yaml).
It never prints file content: config.yaml may hold secrets.
"""

import copy
import datetime
import errno
import os
import stat
import sys

import yaml

PROG = "merge-config"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never writes anchors/aliases, so equal data always dumps to the same text."""

    def ignore_aliases(self, data):
        return True


def deep_merge(existing, declared):
    """Returns existing updated by declared: maps merge recursively, anything else in declared wins."""
    if not isinstance(existing, dict) or not isinstance(declared, dict):
        return copy.deepcopy(declared)
    merged = copy.deepcopy(existing)
    for key, value in declared.items():
        if key in merged:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_config(declared, existing):
    """Applies the merge rules above to two parsed configs (existing may be None for "absent")."""
    if existing is None:
        return copy.deepcopy(declared)
    merged = deep_merge(existing, declared)
    declared_servers = declared.get("mcp_servers")
    existing_servers = existing.get("mcp_servers")
    if isinstance(declared_servers, dict) and isinstance(existing_servers, dict):
        servers = {name: copy.deepcopy(s) for name, s in existing_servers.items() if name not in declared_servers}
        servers.update(copy.deepcopy(declared_servers))
        merged["mcp_servers"] = servers
    return merged


def dump_config(data):
    """Serialises a config deterministically (sorted keys, block style, UTF-8, no wrapping, no aliases)."""
    return yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=2**31 - 1,
    ).encode("utf-8")


def warn(message):
    """One warning line on stderr (never file content)."""
    sys.stderr.write("%s: warning: %s\n" % (PROG, message))


def read_regular_file(path):
    """Returns the bytes of path, or None when it is absent, a symlink or not a regular file.

    O_NOFOLLOW: the agent can write in its data directory; a symlink planted as config.yaml must not make this
    script read (and copy into config.yaml) a file elsewhere. O_NONBLOCK: a FIFO must not hang the deploy.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            warn("%s is a symbolic link; ignoring it" % path)
            return None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            warn("%s is not a regular file; ignoring it" % path)
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


def write_new_file(path, data):
    """Creates path exclusively (never through a symlink) with mode 0600 and writes data to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def back_up_invalid(path, data):
    """Copies the unusable file to <path>.invalid-<UTC timestamp> (0600, a new name if taken) and returns that name."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = "%s.invalid-%s" % (path, stamp)
    for attempt in range(100):
        candidate = base if attempt == 0 else "%s-%d" % (base, attempt)
        try:
            write_new_file(candidate, data)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError("cannot find a free backup name for %s" % path)


def parse_mapping(data):
    """Parses YAML bytes; returns (mapping, None) or (None, reason). An empty document is an empty mapping."""
    try:
        parsed = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "is not UTF-8"
    except yaml.YAMLError as e:
        # Only the position: the problem text can quote the offending line, which may hold a secret.
        mark = getattr(e, "problem_mark", None)
        where = " (line %d)" % (mark.line + 1) if mark is not None else ""
        return None, "is not valid YAML%s" % where
    if parsed is None:
        return {}, None
    if not isinstance(parsed, dict):
        return None, "is not a YAML mapping (top level is %s)" % type(parsed).__name__
    return parsed, None


def load_existing(path):
    """Reads the on-disk config; returns None when absent or unusable (backing up an unusable file first)."""
    data = read_regular_file(path)
    if data is None:
        return None
    parsed, problem = parse_mapping(data)
    if problem is None:
        return parsed
    backup = back_up_invalid(path, data)
    warn("%s %s; saved it as %s and starting from the declared config" % (path, problem, backup))
    return None


def main(argv):
    """Entry point: merge-config.py DECLARED_YAML EXISTING_YAML OUTPUT."""
    if len(argv) != 3:
        sys.stderr.write("usage: %s DECLARED_YAML EXISTING_YAML OUTPUT\n" % PROG)
        return 2
    declared_path, existing_path, output_path = argv
    try:
        with open(declared_path, "rb") as f:
            declared, problem = parse_mapping(f.read())
        if problem is not None:
            sys.stderr.write("%s: the declared config %s\n" % (PROG, problem))
            return 2
        merged = merge_config(declared, load_existing(existing_path))
        out = dump_config(merged)
        # OUTPUT is normally a fresh temp file of the caller: truncate it, keep its mode, never follow a symlink.
        fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(out)
    except OSError as e:
        # e.g. an on-disk config the running uid cannot read: fail the deploy with the path, not a traceback.
        sys.stderr.write("%s: %s: %s\n" % (PROG, e.filename or "?", e.strerror or e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
