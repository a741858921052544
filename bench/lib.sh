# lib.sh — sourced by the bench scripts: the tools they need and the ports they take.

# need_tools COMMAND... : installs, with apt-get, the Debian package of each command missing
# (nginx: nginx-light, perf: linux-perf, the others by their own name).
need_tools() {
  local t pkgs=()
  for t in "$@"; do
    command -v "$t" > /dev/null && continue
    case $t in nginx) pkgs+=(nginx-light) ;; perf) pkgs+=(linux-perf) ;; *) pkgs+=("$t") ;; esac
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
