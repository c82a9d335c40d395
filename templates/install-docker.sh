#!/usr/bin/env bash
# install-docker.sh: runs as root inside the LXC (the Docker host). Installs a pinned Docker engine, configures log
# rotation, and proves that a container can actually start here before anything is deployed on top.
#
# Env:
#   DOCKER_SOURCE        docker-ce (Docker's apt repository: docker-ce, docker-ce-cli, containerd.io,
#                        docker-compose-plugin) or debian (Debian's docker.io)
#   DOCKER_CE_VERSION    apt version of docker-ce and docker-ce-cli, e.g. 5:28.5.1-1~debian.12~bookworm (docker-ce)
#   CONTAINERD_VERSION   apt version of containerd.io, e.g. 1.7.28-1~debian.12~bookworm (docker-ce)
#   DOCKER_IO_VERSION    apt version of docker.io (debian; optional: empty = the candidate, frozen once installed)
#   DOCKER_LOG_MAX_SIZE  json-file max-size per container log, e.g. 10m
#   DOCKER_LOG_MAX_FILE  json-file max-file, e.g. 3
#   EXTRA_PACKAGES       space-separated extra Debian packages (optional), e.g. python3-yaml
#   APT_LOCK_TIMEOUT     seconds to wait for the apt/dpkg locks (default 600)
#   DISK_WARN_PERCENT    warn when the filesystem holding /var/lib/docker is fuller than this (default 80)
#
# stdout: progress lines, the last one exactly `docker-ready driver=<storage driver> version=<server version>`.
#
# Safe to kill and re-run: an interrupted dpkg is recovered first, files are replaced atomically, and the stamp that
# enables the fast path is written last. On a host already provisioned with the same parameters it runs no
# `apt-get update`, downloads nothing and finishes in about a second (stamp + dpkg-query + `docker info`).
set -euo pipefail

readonly SELF=install-docker.sh
# Bump when this script's behaviour changes, so hosts provisioned by an older revision take the full path once.
readonly REVISION=1
readonly STAMP_DIR=/var/lib/hermes-lxc
readonly STAMP=$STAMP_DIR/install-docker.stamp
readonly DAEMON_JSON=/etc/docker/daemon.json
readonly PREFS=/etc/apt/preferences.d/hermes-lxc-docker
readonly DOCKER_KEY=/etc/apt/keyrings/docker.asc
readonly DOCKER_SOURCES=/etc/apt/sources.list.d/docker.sources
# Docker's release signing key (https://docs.docker.com/engine/install/debian/).
readonly DOCKER_KEY_FPR=9DC858229FC7DD38854AE2D88D81803C0EBFCD88
readonly PROBE_IMAGE=hermes-lxc-probe:1

die() {
  printf '%s: %s\n' "$SELF" "$*" >&2
  exit 1
}

log() {
  printf '%s: %s\n' "$SELF" "$*" >&2
}

# ---------------------------------------------------------------------------------------------------------------
# Parameters. The config model validated them already; they are re-checked because they end up in apt command
# lines and in files this script writes as root.
# ---------------------------------------------------------------------------------------------------------------
readonly APT_VERSION_RE='^[0-9A-Za-z.+~:-]+$'
readonly PACKAGE_RE='^[a-z0-9][a-z0-9+.-]+$'

DOCKER_SOURCE=${DOCKER_SOURCE-}
DOCKER_CE_VERSION=${DOCKER_CE_VERSION-}
CONTAINERD_VERSION=${CONTAINERD_VERSION-}
DOCKER_IO_VERSION=${DOCKER_IO_VERSION-}
DOCKER_LOG_MAX_SIZE=${DOCKER_LOG_MAX_SIZE-}
DOCKER_LOG_MAX_FILE=${DOCKER_LOG_MAX_FILE-}
EXTRA_PACKAGES=${EXTRA_PACKAGES-}
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}

case $DOCKER_SOURCE in
  docker-ce)
    [[ $DOCKER_CE_VERSION =~ $APT_VERSION_RE ]] || die "DOCKER_CE_VERSION must be an apt version string, got '$DOCKER_CE_VERSION'"
    [[ $CONTAINERD_VERSION =~ $APT_VERSION_RE ]] || die "CONTAINERD_VERSION must be an apt version string, got '$CONTAINERD_VERSION'"
    ;;
  debian)
    if [[ -n $DOCKER_IO_VERSION && ! $DOCKER_IO_VERSION =~ $APT_VERSION_RE ]]; then
      die "DOCKER_IO_VERSION must be an apt version string, got '$DOCKER_IO_VERSION'"
    fi
    ;;
  *) die "DOCKER_SOURCE must be 'docker-ce' or 'debian', got '$DOCKER_SOURCE'" ;;
esac
[[ $DOCKER_LOG_MAX_SIZE =~ ^[1-9][0-9]{0,5}[kmg]$ ]] || die "DOCKER_LOG_MAX_SIZE must look like 10m (k, m or g), got '$DOCKER_LOG_MAX_SIZE'"
[[ $DOCKER_LOG_MAX_FILE =~ ^[1-9][0-9]{0,2}$ ]] || die "DOCKER_LOG_MAX_FILE must be an integer 1..999, got '$DOCKER_LOG_MAX_FILE'"
[[ $APT_LOCK_TIMEOUT =~ ^[0-9]{1,5}$ ]] || die "APT_LOCK_TIMEOUT must be a number of seconds, got '$APT_LOCK_TIMEOUT'"
read -r -a extra <<<"$EXTRA_PACKAGES"
[[ ${DISK_WARN_PERCENT:-80} =~ ^[0-9]{1,3}$ ]] || die "DISK_WARN_PERCENT must be a percentage, got '${DISK_WARN_PERCENT-}'"
for p in "${extra[@]}"; do
  [[ $p =~ $PACKAGE_RE ]] || die "EXTRA_PACKAGES: '$p' is not a Debian package name"
done
[[ $EUID -eq 0 ]] || die "must run as root"

# What gets installed, and which of it is pinned + held. The runtime pieces (runc/containerd) are pinned too: the
# Nov-2025 breakage came from a runc update pulled in by unattended-upgrades while docker itself stayed put.
if [[ $DOCKER_SOURCE == docker-ce ]]; then
  pinned=(docker-ce docker-ce-cli containerd.io docker-compose-plugin)
  declare -A want_version=([docker-ce]=$DOCKER_CE_VERSION [docker-ce-cli]=$DOCKER_CE_VERSION [containerd.io]=$CONTAINERD_VERSION)
  other_source=(docker.io containerd runc)
else
  pinned=(docker.io containerd runc)
  declare -A want_version=()
  [[ -z $DOCKER_IO_VERSION ]] || want_version[docker.io]=$DOCKER_IO_VERSION
  other_source=(docker-ce docker-ce-cli containerd.io docker-compose-plugin)
fi
# apparmor: on a PVE host with AppArmor, dockerd needs apparmor_parser to load its docker-default profile, or every
# container start fails ("docker-default profile could not be loaded"). Installed without recommends otherwise, so
# nothing like needrestart comes along and restarts services behind our back.
unpinned=(apparmor "${extra[@]}")

desired_daemon_json=$(
  cat <<EOF
{
  "log-driver": "json-file",
  "log-opts": {
    "max-size": "$DOCKER_LOG_MAX_SIZE",
    "max-file": "$DOCKER_LOG_MAX_FILE"
  }
}
EOF
)

params="revision=$REVISION source=$DOCKER_SOURCE ce=$DOCKER_CE_VERSION containerd=$CONTAINERD_VERSION"
params+=" docker_io=$DOCKER_IO_VERSION log=$DOCKER_LOG_MAX_SIZE/$DOCKER_LOG_MAX_FILE extra=${extra[*]}"
params_hash=$(printf '%s' "$params" | sha256sum | cut -d' ' -f1)

# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------

# "<package> <version>" for each installed package among the arguments; packages not installed are left out.
# The db:Status-Abbrev "hi"/"ii" prefix is kept as a third field so callers can see whether it is held.
installed_versions() {
  dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' "$@" 2>/dev/null | awk '$3 ~ /^[ih]i/ {print $1, $2, $3}'
}

# Prints "<driver> <version>" from a running daemon, or fails.
docker_info() {
  timeout 20 docker info --format '{{.Driver}} {{.ServerVersion}}' 2>/dev/null
}

# Listening TCP sockets owned by dockerd (there must be none: the API is reached over SSH + the unix socket only).
dockerd_tcp_listeners() {
  ss -H -ltnp 2>/dev/null | grep -F '"dockerd"' || true
}

stamp_field() {
  sed -n "s/^$1=//p" "$STAMP" 2>/dev/null | head -n1
}

# ---------------------------------------------------------------------------------------------------------------
# Fast path: everything this script would do is already true. Reads only local state; never touches apt.
# ---------------------------------------------------------------------------------------------------------------
fast_path_reason=
fast_path() {
  [[ -f $STAMP ]] || {
    fast_path_reason="no stamp ($STAMP)"
    return 1
  }
  [[ $(stamp_field params) == "$params_hash" ]] || {
    fast_path_reason="parameters changed"
    return 1
  }
  [[ $(stamp_field probe) == ok ]] || {
    fast_path_reason="the last probe did not pass"
    return 1
  }
  # Every pinned package installed, held, and at the version recorded when it was pinned.
  local pkg version status recorded
  declare -A seen=()
  while read -r pkg version status; do seen[$pkg]="$version $status"; done < <(installed_versions "${pinned[@]}" "${unpinned[@]}")
  for pkg in "${pinned[@]}"; do
    [[ -n ${seen[$pkg]-} ]] || {
      fast_path_reason="$pkg is not installed"
      return 1
    }
    read -r version status <<<"${seen[$pkg]}"
    recorded=$(stamp_field "pkg.$pkg")
    [[ $status == hi && $version == "$recorded" ]] || {
      fast_path_reason="$pkg is $status $version, expected held at '$recorded'"
      return 1
    }
  done
  for pkg in "${unpinned[@]}"; do
    [[ -n ${seen[$pkg]-} ]] || {
      fast_path_reason="$pkg is not installed"
      return 1
    }
  done
  [[ -f $DAEMON_JSON && $(<"$DAEMON_JSON") == "$desired_daemon_json" ]] || {
    fast_path_reason="$DAEMON_JSON differs"
    return 1
  }
  [[ -f $PREFS && $(<"$PREFS") == "$(stamp_prefs)" ]] || {
    fast_path_reason="$PREFS differs"
    return 1
  }
  local info
  info=$(docker_info) || {
    fast_path_reason="docker info does not answer"
    return 1
  }
  read -r driver server_version <<<"$info"
  # A different version or storage driver than the one probed (package swapped by hand, rootfs moved to other
  # storage) means the probe result no longer applies.
  [[ $server_version == "$(stamp_field version)" && $driver == "$(stamp_field driver)" ]] || {
    fast_path_reason="docker is now $driver/$server_version, the stamp says $(stamp_field driver)/$(stamp_field version)"
    return 1
  }
  [[ -z $(dockerd_tcp_listeners) ]] || {
    fast_path_reason="dockerd listens on TCP"
    return 1
  }
}

# The preferences file as recorded in the stamp (pkg.* lines): one exact-version pin per pinned package.
stamp_prefs() {
  local pkg
  for pkg in "${pinned[@]}"; do
    pin_stanza "$pkg" "$(stamp_field "pkg.$pkg")"
  done
}

pin_stanza() {
  # 1001: above any repository's priority, so even an explicit `apt-get install <pkg>` or a dist-upgrade keeps (or
  # returns to) this exact version until this script changes the pin.
  printf 'Package: %s\nPin: version %s\nPin-Priority: 1001\n\n' "$1" "$2"
}

# The rootfs holds every image (hermes' is several GB) and the containers' writable layers: say how full it is, and
# warn well before a pull or an upgrade fails on a full disk (DISK_WARN_PERCENT, default 80).
report_disk() {
  local where=/var/lib/docker pcent size avail
  [[ -d $where ]] || where=/
  read -r pcent size avail < <(df -P -k "$where" | awk 'NR==2 {sub(/%/, "", $5); print $5, $2, $4}')
  echo "rootfs usage: ${pcent}% of $((size / 1024 / 1024)) GiB ($((avail / 1024)) MiB free) at $where"
  if ((pcent > ${DISK_WARN_PERCENT:-80})); then
    log "WARNING: the filesystem holding $where is ${pcent}% full (over ${DISK_WARN_PERCENT:-80}%): remove unused"
    log "WARNING: images ('docker image prune'), or grow the rootfs (lxcs.<name>.rootfs.sizeGb; growing is in place)."
  fi
}

if fast_path; then
  echo "unchanged (provisioned with the same parameters; no apt run)"
  [[ $driver != vfs ]] || log "WARNING: storage driver is vfs (see the first run's warning): disk use balloons"
  report_disk
  echo "docker-ready driver=$driver version=$server_version"
  exit 0
fi
log "full run: $fast_path_reason"

# ---------------------------------------------------------------------------------------------------------------
# Full path
# ---------------------------------------------------------------------------------------------------------------

# Two runs at once (a retried deployment while the first is still going) would fight over the same files.
mkdir -p "$STAMP_DIR" /run/lock
exec 8>/run/lock/hermes-lxc-install-docker.lock
flock -w "$APT_LOCK_TIMEOUT" 8 || die "another install-docker.sh still runs after ${APT_LOCK_TIMEOUT}s"

export DEBIAN_FRONTEND=noninteractive
deadline=$((SECONDS + APT_LOCK_TIMEOUT))

remaining() {
  local left=$((deadline - SECONDS))
  ((left > 0)) || left=0
  echo "$left"
}

# apt and dpkg lock with fcntl(2), which flock(1) cannot wait on. apt-get waits by itself for the dpkg locks when
# given DPkg::Lock::Timeout, but not for /var/lib/apt/lists/lock (apt-get update), and dpkg never waits. So: run
# the command, and while the failure is a lock conflict and time is left, wait and run it again.
readonly LOCK_MSG_RE='Could not get lock|Unable to (acquire|lock)|is locked by another process|dpkg frontend lock|status database area is locked'
with_lock_wait() {
  local err rc
  err=$(mktemp)
  while :; do
    rc=0
    # apt's progress goes to stderr too: stdout carries only this script's status lines.
    "$@" >&2 2>"$err" || rc=$?
    cat "$err" >&2
    if ((rc != 0)) && grep -qE "$LOCK_MSG_RE" "$err" && ((SECONDS < deadline)); then
      log "apt/dpkg is locked by another process; waiting (up to $(remaining)s more)"
      sleep 3
      continue
    fi
    rm -f "$err"
    return "$rc"
  done
}

apt_get() {
  with_lock_wait apt-get -q -y -o "DPkg::Lock::Timeout=$(remaining)" \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}

# A run killed while dpkg was unpacking or configuring leaves packages half-installed; apt refuses to do anything
# until `dpkg --configure -a` has finished that work.
if [[ -n $(ls -A /var/lib/dpkg/updates 2>/dev/null) || -n $(dpkg --audit 2>/dev/null) ]]; then
  log "dpkg was interrupted earlier; running dpkg --configure -a"
  with_lock_wait dpkg --force-confdef --force-confold --configure -a
fi

# Writes $1 with the content on stdin only if it differs; atomic (temp file + rename) so a kill never leaves half a
# file. Returns 0 if it changed the file, 1 if it was already right.
write_if_changed() {
  local target=$1 tmp
  tmp=$(mktemp "$target.XXXXXX")
  cat >"$tmp"
  if [[ -f $target ]] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 0644 "$tmp"
  mv -f "$tmp" "$target"
  return 0
}

# daemon.json goes in before the package, so a first install starts dockerd with it and needs no restart.
mkdir -p /etc/docker
daemon_json_changed=0
if printf '%s\n' "$desired_daemon_json" | write_if_changed "$DAEMON_JSON"; then
  daemon_json_changed=1
  echo "changed $DAEMON_JSON"
fi

# Which packages are missing or at the wrong version?
declare -A have=()
while read -r pkg version _; do have[$pkg]=$version; done < <(installed_versions "${pinned[@]}" "${unpinned[@]}" "${other_source[@]}")
to_install=()
for pkg in "${pinned[@]}"; do
  if [[ -n ${want_version[$pkg]-} ]]; then
    [[ ${have[$pkg]-} == "${want_version[$pkg]}" ]] || to_install+=("$pkg=${want_version[$pkg]}")
  else
    [[ -n ${have[$pkg]-} ]] || to_install+=("$pkg")
  fi
done
for pkg in "${unpinned[@]}"; do
  [[ -n ${have[$pkg]-} ]] || to_install+=("$pkg")
done
to_remove=()
for pkg in "${other_source[@]}"; do
  [[ -z ${have[$pkg]-} ]] || to_remove+=("$pkg")
done

if [[ $DOCKER_SOURCE == docker-ce ]]; then
  # Docker's repository, deb822 style, signed by a key whose fingerprint is checked before apt ever trusts it.
  # curl fetches the key, gpg reads its fingerprint; the Proxmox template may lack gnupg.
  if ! command -v curl >/dev/null || ! command -v gpg >/dev/null; then
    apt_get update
    apt_get install --no-install-recommends ca-certificates curl gnupg
  fi
  key_ok=0
  if [[ -f $DOCKER_KEY ]] && gpg --show-keys --with-colons "$DOCKER_KEY" 2>/dev/null | awk -F: '$1 == "fpr" && !seen++ {print $10}' | grep -qx "$DOCKER_KEY_FPR"; then
    key_ok=1
  fi
  if ((key_ok == 0)); then
    install -d -m 0755 /etc/apt/keyrings
    key_tmp=$(mktemp)
    curl -fsSL --proto '=https' --tlsv1.2 https://download.docker.com/linux/debian/gpg -o "$key_tmp"
    primary=$(gpg --show-keys --with-colons "$key_tmp" | awk -F: '$1 == "fpr" && !seen++ {print $10}')
    [[ $primary == "$DOCKER_KEY_FPR" ]] || {
      rm -f "$key_tmp"
      die "Docker's signing key has fingerprint '$primary', expected $DOCKER_KEY_FPR: refusing to trust it"
    }
    chmod 0644 "$key_tmp"
    mv -f "$key_tmp" "$DOCKER_KEY"
    echo "changed $DOCKER_KEY"
  fi
  # shellcheck disable=SC1091 # /etc/os-release exists on every Debian
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  if write_if_changed "$DOCKER_SOURCES" <<EOF; then
Types: deb
URIs: https://download.docker.com/linux/debian
Suites: $codename
Components: stable
Architectures: $(dpkg --print-architecture)
Signed-By: $DOCKER_KEY
EOF
    echo "changed $DOCKER_SOURCES"
    # New repository: its package lists must be fetched even if nothing else is missing.
    ((${#to_install[@]} > 0)) || to_install+=(docker-ce="$DOCKER_CE_VERSION")
  fi
fi

if ((${#to_install[@]} > 0 || ${#to_remove[@]} > 0)); then
  # Holds from an earlier run (or the other source) would make apt refuse the change; they are re-applied below.
  held=$(apt-mark showhold "${pinned[@]}" "${other_source[@]}" 2>/dev/null || true)
  if [[ -n $held ]]; then
    # shellcheck disable=SC2086 # one package name per word
    with_lock_wait apt-mark unhold $held
  fi
  rm -f "$PREFS"
  log "installing: ${to_install[*]:-(nothing)}; removing: ${to_remove[*]:-(nothing)}"
  apt_get update
  remove_args=()
  for pkg in "${to_remove[@]}"; do remove_args+=("$pkg-"); done
  # --allow-downgrades: a pin to an older version (containerd.io 1.7.28-1 after the Nov-2025 breakage) is the point.
  apt_get install --no-install-recommends --allow-downgrades "${to_install[@]}" "${remove_args[@]}"
  echo "installed ${to_install[*]}"
fi

# Pin and hold exactly what is installed now, and check it is what was asked for.
# Guarded by the system tier only (tests/system/20-docker-install.system.test.ts, "pins + holds docker.io/containerd/
# runc"): a hold and a pin take a real dpkg and apt; the fast tiers render the versions (tests/program/homelab.test.ts).
declare -A now=()
while read -r pkg version _; do now[$pkg]=$version; done < <(installed_versions "${pinned[@]}")
prefs_text=
for pkg in "${pinned[@]}"; do
  [[ -n ${now[$pkg]-} ]] || die "$pkg is not installed after apt-get install"
  if [[ -n ${want_version[$pkg]-} && ${now[$pkg]} != "${want_version[$pkg]}" ]]; then
    die "$pkg is at ${now[$pkg]}, expected ${want_version[$pkg]}"
  fi
  prefs_text+=$(pin_stanza "$pkg" "${now[$pkg]}")$'\n\n'
done
if printf '%s' "${prefs_text%$'\n'}" | write_if_changed "$PREFS"; then echo "changed $PREFS"; fi
not_held=$(comm -23 <(printf '%s\n' "${pinned[@]}" | sort) <(apt-mark showhold | sort))
if [[ -n $not_held ]]; then
  # shellcheck disable=SC2086 # one package name per word
  with_lock_wait apt-mark hold $not_held
  echo "held ${not_held//$'\n'/ }"
fi

# The engine: enabled at boot, running, and restarted only when its configuration changed under a running daemon.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  if ! systemctl is-enabled --quiet docker.service 2>/dev/null; then systemctl enable docker.service >/dev/null 2>&1; fi
  if systemctl is-active --quiet docker.service; then
    # A dockerd installed by this very run started after daemon.json was written; only an older one needs it.
    if ((daemon_json_changed)) && [[ -n ${have[docker.io]-}${have[docker-ce]-} ]]; then
      log "restarting docker: $DAEMON_JSON changed"
      systemctl restart docker.service
      echo "restarted docker"
    fi
  else
    systemctl start docker.service
  fi
else
  die "systemd is not running in this container; cannot manage docker.service"
fi

info=
for _ in $(seq 1 30); do
  info=$(docker_info) && break
  sleep 1
done
[[ -n $info ]] || die "docker info does not answer 30s after starting docker.service (see: journalctl -u docker)"
read -r driver server_version <<<"$info"

# ---------------------------------------------------------------------------------------------------------------
# Post-install checks
# ---------------------------------------------------------------------------------------------------------------
listeners=$(dockerd_tcp_listeners)
[[ -z $listeners ]] || die "dockerd listens on TCP, which would expose a root-equivalent API: $listeners (remove any -H tcp:// from the unit or daemon.json)"

if [[ $driver == vfs ]]; then
  log "WARNING: Docker uses the vfs storage driver. vfs copies every image layer in full for each layer and"
  log "WARNING: container, so disk use balloons (reports of 22 GB where overlay2 needs 3 GB) and pulls are slow."
  log "WARNING: overlay2 needs the container's rootfs on ext4 or LVM-thin, or on ZFS >= 2.2 (check 'zfs version'"
  log "WARNING: on the Proxmox node); move the rootfs to such a storage and re-run."
fi

# The probe: the smallest container that exercises what broke in Nov 2025 (runc setting the
# net.ipv4.ip_unprivileged_port_start sysctl under the LXC AppArmor profile). The image holds only the usr-merge
# symlinks; the binaries come from this host's /usr, mounted read-only, so nothing is downloaded.
if ! docker image inspect "$PROBE_IMAGE" >/dev/null 2>&1; then
  probe_dir=$(mktemp -d)
  mkdir -p "$probe_dir/root/usr"
  for link in bin lib lib64 sbin; do ln -s "usr/$link" "$probe_dir/root/$link"; done
  tar --numeric-owner --owner=0 --group=0 -C "$probe_dir/root" -cf "$probe_dir/probe.tar" .
  timeout 120 docker import --message "hermes-lxc install-docker probe" "$probe_dir/probe.tar" "$PROBE_IMAGE" >/dev/null
  rm -rf "$probe_dir"
fi
probe_status=ok
probe_err=$(timeout 120 docker run --rm --pull never -v /usr:/usr:ro "$PROBE_IMAGE" /usr/bin/true 2>&1) || probe_status=failed
# The stamp is (re)written whatever the probe said, so the next run knows the probe has to be repeated.
write_stamp() {
  local pkg
  {
    echo "params=$params_hash"
    echo "probe=$probe_status"
    echo "driver=$driver"
    echo "version=$server_version"
    for pkg in "${pinned[@]}"; do echo "pkg.$pkg=${now[$pkg]}"; done
  } | write_if_changed "$STAMP" || true
}
write_stamp
if [[ $probe_status != ok ]]; then
  printf '%s\n' "$probe_err" >&2
  if [[ $probe_err == *ip_unprivileged_port_start*"permission denied"* ]]; then
    die "a container cannot start in this LXC: runc is denied the net.ipv4.ip_unprivileged_port_start sysctl by the
Proxmox host's AppArmor profile for LXC (the Nov-2025 runc 1.3.3 / containerd.io 1.7.28-2+ breakage). Fix one of:
  1. update the Proxmox VE host: lxc-pve >= 6.0.5-2 (apt update && apt full-upgrade on the node), then reboot the CT;
  2. or set the stack's raw LXC option rawConfig.apparmorUnconfined: true for this CT, which writes
     'lxc.apparmor.profile: unconfined' (weakens isolation: an explicit opt-in);
  3. or pin containerd.io 1.7.28-1 (docker source docker-ce, containerdVersion 1.7.28-1~debian.12~<codename>)."
  fi
  if [[ $probe_err == *"reopen exec fifo"* ]]; then
    die "a container cannot start: runc's exec-fifo reopen is blocked, which points at a seccomp profile denying fstatfs/statx"
  fi
  die "the probe container '$PROBE_IMAGE /usr/bin/true' failed; docker cannot run containers in this LXC (error above)"
fi
echo "probe ok ($PROBE_IMAGE ran /usr/bin/true)"
report_disk
echo "docker-ready driver=$driver version=$server_version"
