# lib.sh — sourced by the bench scripts: the tools they need, the ports they take, and the
# /proc and median readings they share.

# The Go release the Makefile builds with (go1.27.3, from the module proxy).
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

# need_tools COMMAND... : installs, with apt-get, the Debian package of each command missing
# (nginx: nginx-light, perf: linux-perf, the others by their own name).
need_tools() {
  local t pkgs=()
  for t in "$@"; do
    command -v "$t" > /dev/null && continue
    case $t in nginx) pkgs+=(nginx-light) ;; perf) pkgs+=(linux-perf) ;; h2load) pkgs+=(nghttp2-client) ;; *) pkgs+=("$t") ;; esac
  done
  if ((${#pkgs[@]})); then
    echo "installing ${pkgs[*]}" >&2
    apt-get update -qq > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" > /dev/null
  fi
}

# ports_free PORT... : exits when something already listens on one of them.
ports_free() {
  local port
  for port in "$@"; do
    if ss -Htln "sport = :$port" | grep -q .; then echo "port $port is already in use" >&2; exit 1; fi
  done
}

# cpu_ticks PID : the process's user and system CPU, in clock ticks (/proc/PID/stat).
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12, $13}' "/proc/$1/stat"; }

# median_min_max : "median min max" of the numbers on standard input, one a line.
median_min_max() {
  sort -n | awk '{v[NR] = $1} END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m, v[1], v[NR] }'
}

# stop_started : stops the processes whose PIDs the script added to PIDS.
stop_started() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }

# ticks PID : the CPU ticks (user and system) of PID and its children.
ticks() { local p t=0 v; for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
  v=$(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat" 2>/dev/null || echo 0); t=$((t + v)); done; echo "$t"; }

# ticks_split PID : "user system" CPU ticks of PID and its children (nginx's workers).
ticks_split() { local p u=0 s=0 a b; for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
  read -r a b < <(cpu_ticks "$p" 2>/dev/null || echo 0 0); u=$((u + a)); s=$((s + b)); done; echo "$u $s"; }
