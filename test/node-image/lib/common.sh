# Shared by the stand-in kubeadm, kubectl and API server (sourced, POSIX sh / busybox ash).
# A bootstrap token lives in shell variables, files under /var/lib/standin and request bodies on stdin: it is never
# an argument of a process (printf and echo are ash builtins), as rootlet must never put it in one either.

LIB=/usr/local/lib/standin
STATE=/var/lib/standin
PKI_SRC=/usr/local/share/standin/pki
VERSION=$(cat /kind/version 2>/dev/null || echo v1.37.0)
TAB=$(printf '\t')
A='[a-z0-9]'
TOKEN_GLOB="*$A$A$A$A$A$A.$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A*"
TOKEN_ID_PATTERN="$A$A$A$A$A$A"

# Contract item 8: whatever the stand-in does not model fails loudly, so tests notice when rootlet starts to rely on it.
unexpected() {
  echo "stand-in: unexpected command: $STANDIN_TOOL $STANDIN_ARGV${1:+ ($1)}" >&2
  exit 2
}

# A token in argv is readable by every user of the host (ps, /proc/*/cmdline): refuse it whatever the command.
refuse_token_in_argv() {
  for arg in "$@"; do
    case "$arg" in
      $TOKEN_GLOB)
        echo "stand-in: token in argv: an argument of $STANDIN_TOOL looks like a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}); every process on the host can read argv. Pass it in the --config file or on stdin." >&2
        exit 2
        ;;
    esac
  done
}

now() { date +%s; }

rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# key=value files: the value of one key.
kv() { sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1; }

cluster() { kv "$STATE/cluster" "$1"; }

# host:port of an endpoint, with brackets kept off an IPv6 host.
endpoint_host() {
  case "$1" in
    \[*) h=${1#\[}; echo "${h%%\]*}" ;;
    *) echo "${1%:*}" ;;
  esac
}
endpoint_port() { echo "${1##*:}"; }

nameserver() { sed -n 's/^nameserver[ \t]*//p' /etc/resolv.conf 2>/dev/null | head -n 1; }

# POSTs key=value lines (the 4th argument: function arguments are no process's argv) to the stand-in API server and
# prints the response body; when the server cannot be reached, prints "ERROR <what Go's net package would say>" and
# returns 1.
http_post() {
  _host=$1 _port=$2 _path=$3 _body=$4
  _err=$(mktemp)
  _resp=$(printf 'POST %s HTTP/1.0\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %s\r\n\r\n%s' \
    "$_path" "$_host" "${#_body}" "$_body" | timeout 15 nc -w 5 "$_host" "$_port" 2>"$_err")
  _rc=$?
  _msg=$(cat "$_err")
  rm -f "$_err"
  _body=
  case "$_resp" in
    HTTP/1.?\ 200*)
      printf '%s\n' "$_resp" | tr -d '\r' | sed '1,/^$/d'
      return 0
      ;;
  esac
  case "$_msg" in
    *"bad address"*) echo "ERROR dial tcp: lookup $_host on $(nameserver):53: no such host" ;;
    *refused*) echo "ERROR dial tcp $(echo "$_msg" | sed -n 's/.*(\(.*\)).*/\1/p'):$_port: connect: connection refused" ;;
    *"timed out"* | *timeout*)
      case "$_host" in
        *[!0-9.]*:* | *[!0-9.:]*) echo "ERROR dial tcp: lookup $_host on $(nameserver):53: i/o timeout" ;;
        *) echo "ERROR dial tcp $_host:$_port: i/o timeout" ;;
      esac
      ;;
    *) echo "ERROR dial tcp $_host:$_port: ${_msg:-connection closed (exit $_rc)}" ;;
  esac
  return 1
}

# Is the stand-in API server answering on host:port? Sets HTTP_ERROR when it is not.
server_up() {
  HTTP_ERROR=$(http_post "$1" "$2" /cgi-bin/healthz ping=1) && return 0
  HTTP_ERROR=${HTTP_ERROR#ERROR }
  return 1
}

# A fresh bootstrap token: /dev/urandom bytes, each of the 36 characters equally likely.
new_token() {
  _t=$(tr -dc 'a-z0-9' </dev/urandom | head -c 22)
  echo "$(echo "$_t" | cut -c1-6).$(echo "$_t" | cut -c7-22)"
}

# Seconds in a Go duration, or nothing when it is not one.
go_duration_seconds() {
  echo "$1" | awk '
    {
      v = $0
      if (v == "0") { print 0; exit }
      if (v !~ /^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)/) exit
      total = 0
      while (v != "") {
        if (!match(v, /^([0-9]+(\.[0-9]*)?|\.[0-9]+)/)) exit
        n = substr(v, 1, RLENGTH) + 0; v = substr(v, RLENGTH + 1)
        if (!match(v, /^(ns|us|µs|ms|s|m|h)/)) exit
        u = substr(v, 1, RLENGTH); v = substr(v, RLENGTH + 1)
        total += u == "h" ? n * 3600 : u == "m" ? n * 60 : u == "s" ? n : u == "ms" ? n / 1000 : 0
      }
      print int(total)
    }'
}

# Has the token file's expiry passed?
expired() {
  _exp=$(kv "$1" expires)
  [ "$_exp" != 0 ] && [ "$(now)" -ge "$_exp" ]
}

# Records a token: tokens/<id> holds its secret and expiry (0: never), as the bootstrap-token Secret would.
record_token() {
  _id=${1%%.*}
  mkdir -p "$STATE/tokens"
  _ttl=$(go_duration_seconds "$2")
  if [ "$_ttl" = 0 ]; then _exp=0; else _exp=$(($(now) + _ttl)); fi
  {
    echo "secret=${1#*.}"
    echo "expires=$_exp"
    echo "description=$3"
  } >"$STATE/tokens/$_id.tmp"
  mv "$STATE/tokens/$_id.tmp" "$STATE/tokens/$_id"
}

# kubeadm's closing lines for an error.
kubeadm_fail() {
  _code=$1
  shift
  printf '%s\n' "$@" >&2
  echo "To see the stack trace of this error execute with --v=5 or higher" >&2
  exit "$_code"
}

# Flattens and checks a kubeadm --config file (mode init|join); on success sets FACTS (tab-separated records).
load_kubeadm_config() {
  _mode=$1 _file=$2
  if [ ! -f "$_file" ]; then
    kubeadm_fail 1 "unable to read config from \"$_file\" : open $_file: no such file or directory"
  fi
  FACTS=$(awk -f "$LIB/yaml.awk" "$_file" | awk -v mode="$_mode" -v host="$(hostname)" -f "$LIB/kubeadm-config.awk")
  _x=$(printf '%s\n' "$FACTS" | awk -F '\t' '$1 == "X" { print $2 "\t" $3; exit }')
  printf '%s\n' "$FACTS" | awk -F '\t' '$1 == "W" { print $2 }' | while IFS= read -r _w; do
    echo "W$(date -u +%m%d\ %H:%M:%S) $$ config.go] $_w" >&2
  done
  if [ -n "$_x" ]; then
    _code=${_x%%$TAB*}
    _msg=${_x#*$TAB}
    case "$_msg" in
      *"strict decoding error"* | *"[config] Ignored configuration document"*)
        kubeadm_fail "$_code" "$_msg" "stand-in: real kubeadm only warns about this and goes on without it; the stand-in refuses it so that rootlet never writes configuration kubeadm drops." ;;
    esac
    kubeadm_fail "$_code" "$_msg"
  fi
  _u=$(printf '%s\n' "$FACTS" | awk -F '\t' '$1 == "U" { print $2; exit }')
  [ -z "$_u" ] || unexpected "$_u"
}

fact() { printf '%s\n' "$FACTS" | awk -F '\t' -v k="$1" '$1 == "F" && $2 == k { print $3; exit }'; }

# The phases rootlet must skip: kubeadm's preflight checks what a rootless container cannot pass.
require_skipped_preflight() {
  case ",$(fact skipPhases)," in
    *,preflight,*) return 0 ;;
  esac
  echo "[preflight] Running pre-flight checks"
  kubeadm_fail 1 "error execution phase preflight: [preflight] Some fatal errors occurred:" \
    "	[ERROR SystemVerification]: failed to parse kernel config: unable to load kernel module: \"configs\", output: \"modprobe: FATAL: Module configs not found in directory /lib/modules/$(uname -r)\\n\", err: exit status 1" \
    "	[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: /proc/sys/net/bridge/bridge-nf-call-iptables does not exist" \
    "[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\`"
}

# A kubeconfig as kubeadm writes it.
write_kubeconfig() {
  _file=$1 _cluster=$2 _server=$3 _user=$4
  _ca=$(base64 -w 0 "${5:-$PKI_SRC/ca.crt}")
  _cert=$(printf -- '-----BEGIN CERTIFICATE-----\nstand-in client certificate for %s\n-----END CERTIFICATE-----\n' "$_user" | base64 -w 0)
  _key=$(printf -- '-----BEGIN RSA PRIVATE KEY-----\nstand-in client key for %s\n-----END RSA PRIVATE KEY-----\n' "$_user" | base64 -w 0)
  umask 077
  cat >"$_file.tmp" <<EOF
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: $_ca
    server: $_server
  name: $_cluster
contexts:
- context:
    cluster: $_cluster
    user: $_user
  name: $_user@$_cluster
current-context: $_user@$_cluster
kind: Config
users:
- name: $_user
  user:
    client-certificate-data: $_cert
    client-key-data: $_key
EOF
  chmod 600 "$_file.tmp"
  mv "$_file.tmp" "$_file"
  umask 022
}

# A node's annotations live in a file of `key<TAB>value` lines, the value with \ newline and tab escaped by esc().
ESCAPE_AWK='function esc(s) { gsub(/\\/, "\\\\", s); gsub(/\n/, "\\n", s); gsub(/\t/, "\\t", s); return s }'

# A node as its kubelet registers it (kubeadm init for the control plane, the register handler for a joining node),
# under nodes/<name>/: info (fixed at registration), taints (its taints, one `<epoch><TAB><key=value:Effect,...>` line
# per change, the last is current), annotations. The caller has made the node's directory (mkdir is the lock against a
# second registration of the name); info comes last, so a node without it is not there yet.
# register_node NAME ROLE ADDRESS LABELS TAINTS CLOUD_PROVIDER NODE_IP; TAINTS as nodeRegistration gave them.
register_node() {
  _dir="$STATE/nodes/$1" _at=$(now)
  case "$5" in
    default) [ "$2" = control-plane ] && _taints=node-role.kubernetes.io/control-plane=:NoSchedule || _taints= ;;
    none) _taints= ;;
    *) _taints=$5 ;;
  esac
  # --cloud-provider=external: the kubelet registers the node tainted until a cloud controller initialises it
  # (kubeadm init adds its own taints after the kubelet registered the node; a join passes them as the kubelet's
  # --register-with-taints, which come first).
  if [ "$6" = external ]; then
    _cloud=node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule
    if [ "$2" = control-plane ]; then _taints=$_cloud${_taints:+,$_taints}; else _taints=${_taints:+$_taints,}$_cloud; fi
  fi
  printf '%s\t%s\n' "$_at" "$_taints" >"$_dir/taints"
  {
    printf 'kubeadm.alpha.kubernetes.io/cri-socket\tunix:///run/containerd/containerd.sock\n'
    printf 'node.alpha.kubernetes.io/ttl\t0\n'
    printf 'volumes.kubernetes.io/controller-managed-attach-detach\ttrue\n'
    # The kubelet hints an external cloud provider at the address --node-ip gave it.
    [ "$6" != external ] || [ -z "$7" ] || printf 'alpha.kubernetes.io/provided-node-ip\t%s\n' "$7"
  } >"$_dir/annotations"
  {
    echo "role=$2"
    echo "address=$3"
    echo "registeredAt=$_at"
    echo "labels=$4"
    echo "cloudProvider=$6"
    echo "nodeIP=$7"
  } >"$_dir/info.tmp"
  mv "$_dir/info.tmp" "$_dir/info"
}

# One change of a node's state at a time (kubectl annotate, taint, patch, drain, delete): mkdir is the lock. One held
# for 30 s was left by a process that was killed.
lock_state() {
  _tries=0
  until mkdir "$STATE/lock" 2>/dev/null; do
    _tries=$((_tries + 1))
    if [ "$_tries" -ge 300 ]; then
      rmdir "$STATE/lock" 2>/dev/null
      _tries=0
    fi
    sleep 0.1
  done
}
unlock_state() { rmdir "$STATE/lock" 2>/dev/null; }
