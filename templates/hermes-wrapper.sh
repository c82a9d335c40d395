#!/usr/bin/env bash
# hermes-wrapper.sh: installed as /usr/local/bin/hermes in the LXC (or Docker host) by write-agent-files.sh, so that
# `ssh root@<lxc> hermes pairing approve telegram ABC123` runs the hermes CLI inside the agent's gateway container.
#
# Usage: hermes [--agent NAME] <hermes arguments...>
#
# The gateway containers carry the docker label `hermes-lxc.agent=<agent name>`. The agent is chosen by
# `--agent NAME` (only as the first arguments, so hermes' own options pass through untouched), else by the env var
# HERMES_AGENT, else it is the only agent on this host. Otherwise the choices are printed and the exit status is 2.
#
# The command runs as `docker exec -i [-t] <container> hermes ...` (-t only when stdin and stdout are terminals).
# The official image's `hermes` shim drops from root to the hermes user, so files the CLI writes (pairing
# approvals, sessions) are not left root-owned.
# Read-only apart from that exec: safe to run any number of times.
set -euo pipefail

readonly LABEL=hermes-lxc.agent

usage_error() {
  printf 'hermes: %s\n' "$*" >&2
  exit 2
}

agent=${HERMES_AGENT:-}
if [[ ${1-} == --agent ]]; then
  [[ $# -ge 2 ]] || usage_error "--agent needs a name: hermes --agent NAME <arguments...>"
  agent=$2
  shift 2
elif [[ ${1-} == --agent=* ]]; then
  agent=${1#--agent=}
  shift
fi
if [[ -n $agent && ! $agent =~ ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ ]]; then
  usage_error "'$agent' is not an agent name (a DNS label)"
fi

command -v docker >/dev/null 2>&1 || {
  printf 'hermes: docker is not installed on this host\n' >&2
  exit 1
}

# One line per gateway container: "<agent> <container> <state>".
listing=$(docker ps --all --filter "label=$LABEL" --format "{{.Label \"$LABEL\"}} {{.Names}} {{.State}}")
names=()
containers=()
states=()
while read -r name container state; do
  [[ -n $name && -n $container ]] || continue
  names+=("$name")
  containers+=("$container")
  states+=("${state:-unknown}")
done <<<"$listing"

print_choices() {
  local i
  if ((${#names[@]} == 0)); then
    printf '  (no containers labelled %s on this host)\n' "$LABEL" >&2
    return
  fi
  for i in "${!names[@]}"; do
    printf '  %s (container %s, %s)\n' "${names[i]}" "${containers[i]}" "${states[i]}" >&2
  done
}

matches=()
for i in "${!names[@]}"; do
  if [[ -z $agent || ${names[i]} == "$agent" ]]; then
    matches+=("$i")
  fi
done

if ((${#matches[@]} != 1)); then
  if [[ -n $agent && ${#matches[@]} -eq 0 ]]; then
    printf 'hermes: no gateway container for agent %s. Agents on this host:\n' "$agent" >&2
  elif [[ -n $agent ]]; then
    printf 'hermes: several containers claim agent %s:\n' "$agent" >&2
  elif ((${#names[@]} == 0)); then
    printf 'hermes: no hermes gateway container on this host.\n' >&2
  else
    printf 'hermes: several agents on this host; pick one with --agent NAME (or HERMES_AGENT=NAME):\n' >&2
  fi
  print_choices
  exit 2
fi

pick=${matches[0]}
container=${containers[pick]}
if [[ ${states[pick]} != running ]]; then
  printf 'hermes: the gateway container %s of agent %s is %s, not running\n' "$container" "${names[pick]}" "${states[pick]}" >&2
  exit 1
fi

# A TTY only when both ends are terminals: `ssh host hermes ... | grep` must not get TTY line endings.
flags=(-i)
if [[ -t 0 && -t 1 ]]; then
  flags+=(-t)
fi
exec docker exec "${flags[@]}" "$container" hermes "$@"
