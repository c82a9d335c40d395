# shellcheck shell=bash
# hermes-agent stand-in: the parts of hermes_cli/config.py (and utils.py, hermes_cli/env_loader.py) that the
# stand-in's `hermes` CLI and its boot-time config migration share. Sourced, never run; see README.md for the
# upstream files and commits each function mirrors. Installed as /opt/hermes/lib/hermes-config.sh.

HERMES_HOME=${HERMES_HOME:-/opt/data}
# The newest config schema this image knows (hermes_cli/config_defaults.py `_config_version`), baked in at build
# time: 44 in hermes-standin:local, 45 in hermes-standin:v2 (build.sh).
# shellcheck disable=SC2034 # used by the scripts that source this file
HERMES_LATEST_CONFIG_VERSION=${HERMES_STANDIN_CONFIG_VERSION:-44}

# utils.env_var_enabled: set to 1/true/yes/on, after strip() and lower().
hermes_env_enabled() {
  local v=${!1-}
  v=${v#"${v%%[![:space:]]*}"}
  v=${v%"${v##*[![:space:]]}"}
  [[ ${v,,} == 1 || ${v,,} == true || ${v,,} == yes || ${v,,} == on ]]
}

# get_managed_system: HERMES_MANAGED (lower-cased) wins; unset/empty -> $HERMES_HOME/.managed is read (empty file
# -> nixos). true/1/yes -> nixos; false/0/no/off/brew/homebrew -> not managed (status 1); anything else is the
# manager's name. Prints the manager's name.
hermes_managed_system() {
  local marker=${HERMES_MANAGED-}
  marker=${marker#"${marker%%[![:space:]]*}"}
  marker=${marker%"${marker##*[![:space:]]}"}
  marker=${marker,,}
  if [[ -z $marker ]]; then
    [[ -e $HERMES_HOME/.managed ]] || return 1
    marker=$(cat "$HERMES_HOME/.managed" 2>/dev/null) || marker=
    marker=${marker#$'\xef\xbb\xbf'}
    marker=${marker#"${marker%%[![:space:]]*}"}
    marker=${marker%"${marker##*[![:space:]]}"}
    marker=${marker,,}
  fi
  case $marker in
    false | 0 | no | off | brew | homebrew) return 1 ;;
    "" | true | 1 | yes) echo nixos ;;
    *) echo "$marker" ;;
  esac
}

# managed_error(action): format_managed_message on stderr. The caller then returns normally (exit status 0).
hermes_managed_error() {
  local system
  system=$(hermes_managed_system) || system="a package manager"
  printf 'Cannot %s: this Hermes installation is managed by %s.\nUse your package manager to upgrade or reinstall Hermes.\n' \
    "$1" "$system" >&2
}

# check_config_version's current half: top-level `_config_version:` of the raw config.yaml; missing, unreadable or
# not an integer -> 0.
hermes_config_version() {
  local f=${1:-$HERMES_HOME/config.yaml} line v
  [[ -r $f ]] || {
    echo 0
    return
  }
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^_config_version:[[:space:]]*([0-9]+)[[:space:]]*(#.*)?$'\r'?$ ]]; then
      v=${BASH_REMATCH[1]}
      echo $((10#$v))
      return
    elif [[ $line == _config_version:* ]]; then
      echo 0
      return
    fi
  done <"$f"
  echo 0
}

# The stand-in's save of one top-level scalar: `key: value` replaced in place (first top-level occurrence) or
# appended; everything else kept byte for byte. Atomic (temp file + mv) with the file's mode preserved, like
# utils.atomic_yaml_write. Refused under managed mode, as save_config / set_config_value are (message, status 0).
hermes_config_write_key() {
  local action=$1 key=$2 value=$3 f=$HERMES_HOME/config.yaml tmp line done=0 mode
  if hermes_managed_system >/dev/null; then
    hermes_managed_error "$action"
    return 0
  fi
  tmp=$(mktemp "$HERMES_HOME/.config_XXXXXX.tmp") || return 1
  if [[ -f $f ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      if ((!done)) && [[ $line == "$key:"* ]]; then
        printf '%s: %s\n' "$key" "$value"
        done=1
      else
        printf '%s\n' "$line"
      fi
    done <"$f" >"$tmp"
    mode=$(stat -c %a "$f")
  else
    mode=640
  fi
  ((done)) || printf '%s: %s\n' "$key" "$value" >>"$tmp"
  chmod "$mode" "$tmp" && mv -f "$tmp" "$f"
}

# Comment blocks save_config appends after the YAML for features that are off (hermes_cli/config.py
# _commented_sections_for_save: one when security.redact_secrets is unset, one when no fallback_model names a provider
# and a model). The stand-in's own wording; only their shape matters here: a blank line, then `#` lines.
HERMES_SECURITY_BLOCK=$'\n# -- Security (stand-in) -----------------------------------------------\n# Secret redaction is on by default; set security.redact_secrets to false to turn it off.\n#\n# security:\n#   redact_secrets: true\n'
HERMES_FALLBACK_BLOCK=$'\n# -- Fallback model (stand-in) -----------------------------------------\n# A provider to fail over to when the primary one is unavailable.\n#\n# fallback_model:\n#   provider: openrouter\n#   model: some/model\n'

# migrate_config's closing save (hermes_cli/config.py): read_raw_config(), `_config_version` set, then
# _persist_migration -> save_config(strip_defaults=True). What that leaves on disk, mirrored for the files the program
# writes (PyYAML block style, as merge-config.py dumps them):
# - the YAML re-dumped (utils.atomic_yaml_write: yaml.dump, sort_keys=False): key order kept, every comment gone
#   (the file's own and the blocks an earlier save appended), `_config_version: N` replaced in place or appended;
# - _canonicalize_config's _normalize_max_turns_config always sets `agent` (appended as `agent: {}` when absent);
#   _strip_default_values keeps every path the raw file set explicitly, and `{}` differs from agent's defaults;
# - the comment blocks above appended after the YAML;
# - atomic, the file's mode kept. Refused under managed mode (format_managed_message on stderr, status 0).
# Not mirrored: PyYAML's 80-column folding of long scalars and its escaping of non-ASCII text (allow_unicode off).
hermes_save_migrated_config() {
  local latest=$1 f=$HERMES_HOME/config.yaml tmp line section='' mode=640 stamped=0 has_agent=0 redact=0 fb=0
  local lines=() i
  if hermes_managed_system >/dev/null; then
    hermes_managed_error "save configuration"
    return 0
  fi
  if [[ -f $f ]]; then
    mode=$(stat -c %a "$f")
    while IFS= read -r line || [[ -n $line ]]; do
      line=${line%$'\r'}
      [[ $line == '#'* ]] && continue
      [[ $line =~ ^([^[:space:]-][^:]*): ]] && section=${BASH_REMATCH[1]}
      if [[ $line =~ ^_config_version: ]]; then
        line="_config_version: $latest"
        stamped=1
      fi
      [[ $line =~ ^agent:([[:space:]]|$) ]] && has_agent=1
      [[ $section == security && $line =~ ^[[:space:]]+redact_secrets: ]] && redact=1
      [[ $section == fallback_model && $line =~ ^[[:space:]]+(-[[:space:]]+)?(provider|model):[[:space:]]*[^[:space:]] ]] && ((fb++))
      lines+=("$line")
    done <"$f"
  fi
  # yaml.dump writes no blank line after the last key: the ones an earlier save's blocks left go too.
  for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
    [[ -z ${lines[i]//[[:space:]]/} ]] || break
    unset 'lines[i]'
  done
  ((stamped)) || lines+=("_config_version: $latest")
  ((has_agent)) || lines+=("agent: {}")
  tmp=$(mktemp "$HERMES_HOME/.config_XXXXXX.tmp") || return 1
  {
    ((${#lines[@]})) && printf '%s\n' "${lines[@]}"
    ((redact)) || printf '%s' "$HERMES_SECURITY_BLOCK"
    ((fb >= 2)) || printf '%s' "$HERMES_FALLBACK_BLOCK"
  } >"$tmp"
  chmod "$mode" "$tmp" && mv -f "$tmp" "$f"
}

# hermes_cli/config.py sanitize_env_file (first step of migrate_config, not refused under managed mode): every line
# that is neither blank nor a comment loses its surrounding whitespace; the file is rewritten only when that changed
# something (mode 0600, as _secure_file leaves a secret file).
hermes_sanitize_env_file() {
  local f=$HERMES_HOME/.env tmp line stripped changed=0
  [[ -f $f ]] || return 0
  tmp=$(mktemp "$HERMES_HOME/.env_XXXXXX.tmp") || return 1
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    stripped=${line#"${line%%[![:space:]]*}"}
    stripped=${stripped%"${stripped##*[![:space:]]}"}
    if [[ -n $stripped && $stripped != '#'* && $stripped != "$line" ]]; then
      line=$stripped
      changed=1
    fi
    printf '%s\n' "$line"
  done <"$f" >"$tmp"
  if ((changed)); then
    chmod 600 "$tmp" && mv -f "$tmp" "$f"
  else
    rm -f "$tmp"
  fi
}

# hermes_cli/env_loader: $HERMES_HOME/.env into the environment with override=True (a key in .env beats the
# container's `docker run -e`). python-dotenv's rules, reduced to what the stand-in needs: blank lines and `#`
# comments skipped, optional `export `, `KEY = value` allowed; "double quoted" (\" and \\ unescaped), 'single
# quoted' (literal), or unquoted (an inline ` #` comment and trailing blanks dropped). No ${VAR} interpolation.
hermes_load_dotenv() {
  local f=${1:-$HERMES_HOME/.env} line key val i ch out
  [[ -r $f ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    line=${line#"${line%%[![:space:]]*}"}
    [[ -z $line || $line == '#'* ]] && continue
    if [[ $line == export[[:space:]]* ]]; then
      line=${line#export}
      line=${line#"${line%%[![:space:]]*}"}
    fi
    [[ $line == *=* ]] || continue
    key=${line%%=*}
    key=${key%"${key##*[![:space:]]}"}
    [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    val=${line#*=}
    val=${val#"${val%%[![:space:]]*}"}
    if [[ $val == \"* ]]; then
      out=
      for ((i = 1; i < ${#val}; i++)); do
        ch=${val:i:1}
        if [[ $ch == \\ && (${val:i+1:1} == \" || ${val:i+1:1} == \\) ]]; then
          out+=${val:i+1:1}
          ((i++))
        elif [[ $ch == \" ]]; then
          break
        else
          out+=$ch
        fi
      done
      val=$out
    elif [[ $val == \'* ]]; then
      val=${val#\'}
      val=${val%%\'*}
    else
      val=${val%%[[:space:]]#*}
      val=${val%"${val##*[![:space:]]}"}
    fi
    export "$key=$val"
  done <"$f"
}
