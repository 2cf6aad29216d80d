# `kubectl get nodes|pods|events -o json` of the stand-in cluster, from a dump of its state:
#   C <key> <value>                                          /var/lib/standin/cluster
#   NODE <name> <role> <address> <registeredAt> <labels k=v,...> <cloud provider> <node IP> <cordoned at> <drained at>
#                                                            (epoch seconds, or "")
#   TAINTS <node> <since (epoch)> <taints k=v:Effect,...>     the node's taints, one record per change, oldest first
#   ADDRS <node> <Type=address,...>                          status.addresses as patched (none: the kubelet's)
#   ANN <node> <key> <value, \ newline tab escaped>
#   DS <namespace> <name> <appliedAt> <labels> <container names> <images> <tolerations op|key|value|effect;...> <hostNetwork>
# -v what=nodes|pods|events|addresses|drain -v now=<epoch seconds> -v kernel=<uname -r>; with -v node=<name>:
# addresses prints that node's status.addresses as `<type><TAB><address>` lines, drain the pods on it as
# `DS|MIRROR|EVICT<TAB><namespace>/<name>` lines (owned by a DaemonSet, static, others).
#
# The model: a node is NotReady (no CNI) until a pod of a DaemonSet can run there while it is NotReady (any DaemonSet
# that tolerates the node's taints and node.kubernetes.io/not-ready:NoSchedule counts as the CNI); it becomes Ready
# READY_DELAY seconds after the latest of that DaemonSet's apply, the node's registration and the removal of the last
# taint that kept the pod off. A DaemonSet's pods run, READY_DELAY s after they are placed, on every node whose
# NoSchedule and NoExecute taints they tolerate (with the tolerations the DaemonSet controller adds) - on a NotReady node
# only if they tolerate the not-ready taint. clusterName standin-notready*: nodes never get Ready and the CNI pods
# crash-loop. CoreDNS runs on Ready nodes whose taints it tolerates and that were not drained; the static pods and
# kube-proxy (which tolerates everything) run at once (kube-proxy crash-loops when conntrack.maxPerCore is not 0: a user
# namespace cannot set it).
BEGIN {
  FS = "\t"
  READY_DELAY = 2
  nnodes = 0
  nds = 0
  for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i
  ALNUM = "bcdfghjklmnpqrstvwxz2456789"
  NOT_READY_TAINT = "node.kubernetes.io/not-ready=:NoSchedule"
  UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable=:NoSchedule"
  # What the DaemonSet controller adds to every DaemonSet pod (hostNetwork pods: network-unavailable too).
  DS_AUTO = "Exists|node.kubernetes.io/not-ready||NoExecute;Exists|node.kubernetes.io/unreachable||NoExecute;" \
    "Exists|node.kubernetes.io/disk-pressure||NoSchedule;Exists|node.kubernetes.io/memory-pressure||NoSchedule;" \
    "Exists|node.kubernetes.io/pid-pressure||NoSchedule;Exists|node.kubernetes.io/unschedulable||NoSchedule"
  # kubeadm's CoreDNS Deployment, plus the DefaultTolerationSeconds admission plugin's.
  COREDNS_TOLS = "Exists|CriticalAddonsOnly||;Equal|node-role.kubernetes.io/control-plane||NoSchedule;" \
    "Exists|node.kubernetes.io/not-ready||NoExecute;Exists|node.kubernetes.io/unreachable||NoExecute"
}

$1 == "C" { c[$2] = $3; next }
$1 == "NODE" {
  nnodes++
  nname[nnodes] = $2; nrole[nnodes] = $3; naddr[nnodes] = $4; nreg[nnodes] = $5 + 0; nlabels[nnodes] = $6
  ncloud[nnodes] = $7; nip[nnodes] = $8; ncordon[nnodes] = $9 + 0; ndrained[nnodes] = $10 + 0
  next
}
$1 == "TAINTS" { k = ++hcount[$2]; hat[$2, k] = $3 + 0; hlist[$2, k] = $4; next }
$1 == "ADDRS" { patched[$2] = $3; next }
$1 == "ANN" { k = ++nann[$2]; annk[$2, k] = $3; annv[$2, k] = $4; next }
$1 == "DS" {
  nds++
  dns[nds] = $2; dname[nds] = $3; dat[nds] = $4 + 0; dlabels[nds] = $5; dcont[nds] = $6; dimg[nds] = $7; dtols[nds] = $8; dhost[nds] = $9
  next
}

function hash(s, seed,   h, i, n) {
  h = seed
  n = length(s)
  for (i = 1; i <= n; i++) h = (h * 31 + ord[substr(s, i, 1)]) % 2147483629
  return h
}
function hex8(s, seed) { return sprintf("%08x", hash(s, seed) % 4294967296) }
function uid(s,   a, b) {
  a = hex8(s, 7); b = hex8(s, 13)
  return a "-" substr(b, 1, 4) "-4" substr(b, 6, 3) "-8" substr(hex8(s, 17), 1, 3) "-" hex8(s, 19) substr(hex8(s, 23), 1, 4)
}
function suffix(s, len,   h, out, i) {
  h = hash(s, 3); out = ""
  for (i = 0; i < len; i++) { out = out substr(ALNUM, h % 27 + 1, 1); h = int(h / 27) + hash(s, i + 5) }
  return out
}
function ts(t) { return strftime("%Y-%m-%dT%H:%M:%SZ", t) }
function js(s) {
  gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\n/, "\\n", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
  return "\"" s "\""
}
function labels_json(list, extra,   n, parts, i, k, out, kv) {
  out = extra
  n = split(list, parts, ",")
  for (i = 1; i <= n; i++) {
    if (parts[i] == "") continue
    k = parts[i]; kv = index(k, "=")
    out = out (out == "" ? "" : ", ") js(kv ? substr(k, 1, kv - 1) : k) ": " js(kv ? substr(k, kv + 1) : "")
  }
  return "{" out "}"
}

function unesc(s,   out, i, ch, n) {
  if (!index(s, "\\")) return s
  out = ""
  n = length(s)
  for (i = 1; i <= n; i++) {
    ch = substr(s, i, 1)
    if (ch == "\\" && i < n) { ch = substr(s, ++i, 1); out = out (ch == "n" ? "\n" : ch == "t" ? "\t" : ch) }
    else out = out ch
  }
  return out
}

function notready_mode() { return c["clusterName"] ~ /^standin-notready/ }
function node_index(name,   i) { for (i = 1; i <= nnodes; i++) if (nname[i] == name) return i; return 0 }

# Taints are `key=value:Effect` items joined by ","; taint_parts sets TK, TV, TE of one.
function taint_parts(t) {
  TE = t; sub(/.*:/, "", TE); sub(/:[^:]*$/, "", t)
  TK = t; sub(/=.*/, "", TK)
  TV = index(t, "=") ? substr(t, index(t, "=") + 1) : ""
}
# corev1.Toleration.ToleratesTaint, for tolerations `operator|key|value|effect` joined by ";".
function tolerates(tols, key, value, effect,   n, list, k, f) {
  n = split(tols, list, ";")
  for (k = 1; k <= n; k++) {
    if (list[k] == "") continue
    split(list[k], f, "|")
    if (f[4] != "" && f[4] != effect) continue
    if (f[2] != "" && f[2] != key) continue
    if (f[1] == "Exists" || f[3] == value) return 1
  }
  return 0
}
# The first taint of a list that keeps a pod with these tolerations off a node (NoSchedule, NoExecute), or "".
function untolerated(tols, taints,   n, list, k) {
  n = split(taints, list, ",")
  for (k = 1; k <= n; k++) {
    if (list[k] == "") continue
    taint_parts(list[k])
    if ((TE == "NoSchedule" || TE == "NoExecute") && !tolerates(tols, TK, TV, TE)) return list[k]
  }
  return ""
}
function current_taints(i) { return hlist[nname[i], hcount[nname[i]]] }
function ds_tolerations(j) { return dtols[j] ";" DS_AUTO (dhost[j] == "true" ? ";Exists|node.kubernetes.io/network-unavailable||NoSchedule" : "") }

# Since when the pods of DaemonSet j may run on node i as far as taints go, with `extra` taints besides the node's
# own; 0 while they may not. Taints only ever go (kubectl taint NODE KEY:EFFECT-): once tolerated, a node stays so.
function ds_since(i, j, extra,   name, tols, h, t) {
  name = nname[i]; tols = ds_tolerations(j)
  if (!hcount[name] || untolerated(tols, current_taints(i) extra) != "") return 0
  for (h = 1; h < hcount[name]; h++) if (untolerated(tols, hlist[name, h] extra) == "") break
  t = hat[name, h]
  if (dat[j] > t) t = dat[j]
  if (nreg[i] > t) t = nreg[i]
  return t
}

# A node gets Ready READY_DELAY s after the first CNI pod could run on it (see the top).
function compute_ready(   i, j, t, best) {
  for (i = 1; i <= nnodes; i++) {
    best = 0
    if (!notready_mode())
      for (j = 1; j <= nds; j++) {
        t = ds_since(i, j, "," NOT_READY_TAINT)
        if (t && (!best || t < best)) best = t
      }
    ready_at[i] = best ? best + READY_DELAY : 0
  }
}
function node_ready_at(i) { return ready_at[i] }
function node_ready(i) { return ready_at[i] && now >= ready_at[i] }

# Taints as the node carries them: its own, node.kubernetes.io/not-ready while NotReady (the NodeTaint admission
# plugin and the node lifecycle controller) and node.kubernetes.io/unschedulable while cordoned.
function view_taints(i,   t) {
  t = current_taints(i)
  if (!node_ready(i)) t = t (t == "" ? "" : ",") NOT_READY_TAINT
  if (ncordon[i]) t = t (t == "" ? "" : ",") UNSCHEDULABLE_TAINT
  return t
}
function taints_json(i,   out, n, parts, j) {
  out = ""
  n = split(view_taints(i), parts, ",")
  for (j = 1; j <= n; j++) {
    if (parts[j] == "") continue
    taint_parts(parts[j])
    out = out (out == "" ? "" : ", ") "{\"effect\": " js(TE) ", \"key\": " js(TK) (TV == "" ? "" : ", \"value\": " js(TV)) "}"
  }
  return out
}

# status.addresses, `Type=address` joined by ",": as patched, else as the kubelet sets them. With
# --cloud-provider=external it sets none (it waits for the cloud provider) unless --node-ip names one.
function addresses(i,   ip) {
  if (nname[i] in patched) return patched[nname[i]]
  if (ncloud[i] == "external" && nip[i] == "") return ""
  ip = nip[i] == "" ? naddr[i] : nip[i]
  return "InternalIP=" ip ",Hostname=" nname[i]
}
function addresses_json(i,   n, list, k, out, type) {
  out = ""
  n = split(addresses(i), list, ",")
  for (k = 1; k <= n; k++) {
    type = list[k]; sub(/=.*/, "", type)
    out = out (out == "" ? "" : ", ") "{\"address\": " js(substr(list[k], length(type) + 2)) ", \"type\": " js(type) "}"
  }
  return out
}
# The pods' hostIP: the node's first InternalIP, else its first ExternalIP (nodeutil.GetNodeHostIPs).
function host_ip(i,   n, list, k) {
  if (!i) return ""
  n = split(addresses(i), list, ",")
  for (k = 1; k <= n; k++) if (list[k] ~ /^InternalIP=/) return substr(list[k], 12)
  for (k = 1; k <= n; k++) if (list[k] ~ /^ExternalIP=/) return substr(list[k], 12)
  return ""
}
function annotations_json(i,   name, n, k, m, key, value, keys, values, out) {
  name = nname[i]; n = nann[name]
  for (k = 1; k <= n; k++) {
    key = annk[name, k]; value = annv[name, k]
    for (m = k - 1; m >= 1 && keys[m] > key; m--) { keys[m + 1] = keys[m]; values[m + 1] = values[m] }
    keys[m + 1] = key; values[m + 1] = value
  }
  out = ""
  for (k = 1; k <= n; k++) out = out (k > 1 ? ", " : "") js(keys[k]) ": " js(unesc(values[k]))
  return "{" out "}"
}

# Why the scheduler puts no CoreDNS pod on node i (its FitError wording), or "". A cordoned node keeps the pods it
# has until kubectl drain evicts them: only then does it count as unschedulable here.
function dns_unfit(i,   t) {
  if (ndrained[i]) return "node(s) were unschedulable"
  t = current_taints(i)
  if (!node_ready(i)) t = t (t == "" ? "" : ",") NOT_READY_TAINT
  t = untolerated(COREDNS_TOLS, t)
  if (t == "") return ""
  taint_parts(t)
  return "node(s) had untolerated taint {" TK ": " TV "}"
}

# The node's pod CIDR: the i-th /24 of an IPv4 podSubnet.
function pod_cidr(i,   base, parts, n) {
  base = c["podSubnet"]
  sub(/,.*/, "", base)
  if (base !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\/[0-9]+$/) return ""
  sub(/\/.*/, "", base)
  n = split(base, parts, ".")
  return parts[1] "." parts[2] "." (parts[3] + i - 1) ".0/24"
}
function pod_ip(i, k,   cidr) {
  cidr = pod_cidr(i)
  if (cidr == "") return ""
  sub(/0\/24$/, "", cidr)
  return cidr (k + 2)
}

function condition(type, status, reason, message, since) {
  return "{\"lastHeartbeatTime\": " js(ts(now)) ", \"lastTransitionTime\": " js(ts(since)) ", \"message\": " js(message) ", \"reason\": " js(reason) ", \"status\": " js(status) ", \"type\": " js(type) "}"
}

function node_json(i,   labels, ready, conds, taints, cidr, addrs) {
  labels = "\"beta.kubernetes.io/arch\": \"amd64\", \"beta.kubernetes.io/os\": \"linux\", \"kubernetes.io/arch\": \"amd64\", \"kubernetes.io/hostname\": " js(nname[i]) ", \"kubernetes.io/os\": \"linux\""
  if (nrole[i] == "control-plane") labels = labels ", \"node-role.kubernetes.io/control-plane\": \"\", \"node.kubernetes.io/exclude-from-external-load-balancers\": \"\""
  ready = node_ready(i)
  conds = condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", nreg[i]) ", " \
    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", nreg[i]) ", " \
    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", nreg[i]) ", " \
    (ready ? condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", node_ready_at(i)) \
      : condition("Ready", "False", "KubeletNotReady", "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", nreg[i]))
  taints = taints_json(i)
  cidr = pod_cidr(i)
  addrs = addresses_json(i)
  return "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"annotations\": " annotations_json(i) ", " \
    "\"creationTimestamp\": " js(ts(nreg[i])) ", \"labels\": " labels_json(nlabels[i], labels) ", \"name\": " js(nname[i]) ", \"resourceVersion\": \"" (1000 + i * 7 + (ready ? 1 : 0)) "\", \"uid\": " js(uid("node/" nname[i])) "}, " \
    "\"spec\": {" (cidr == "" ? "" : "\"podCIDR\": " js(cidr) ", \"podCIDRs\": [" js(cidr) "]" (taints == "" && !ncordon[i] ? "" : ", ")) \
    (taints == "" ? "" : "\"taints\": [" taints "]" (ncordon[i] ? ", " : "")) (ncordon[i] ? "\"unschedulable\": true" : "") "}, " \
    "\"status\": {" (addrs == "" ? "" : "\"addresses\": [" addrs "], ") \
    "\"allocatable\": {\"cpu\": \"2\", \"ephemeral-storage\": \"20470152Ki\", \"memory\": \"4026532Ki\", \"pods\": \"110\"}, " \
    "\"capacity\": {\"cpu\": \"2\", \"ephemeral-storage\": \"20470152Ki\", \"memory\": \"4026532Ki\", \"pods\": \"110\"}, " \
    "\"conditions\": [" conds "], \"daemonEndpoints\": {\"kubeletEndpoint\": {\"Port\": " (c["kubeletPort"] + 0) "}}, " \
    "\"nodeInfo\": {\"architecture\": \"amd64\", \"bootID\": " js(uid("boot/" nname[i])) ", \"containerRuntimeVersion\": \"containerd://2.1.4\", \"kernelVersion\": " js(kernel) ", \"kubeletVersion\": " js(c["kubernetesVersion"]) ", \"machineID\": " js(hex8(nname[i], 29) hex8(nname[i], 31) hex8(nname[i], 37) hex8(nname[i], 41)) ", \"operatingSystem\": \"linux\", \"osImage\": \"Debian GNU/Linux 12 (bookworm)\", \"runningInUserNamespace\": true, \"systemUUID\": " js(uid("system/" nname[i])) "}}}"
}

# One pod. phase Running|Pending; ready 1|0; waiting: the container's waiting reason when not running.
function pod_json(ns, name, labels, owner_kind, owner_name, owner_api, node, hostnet, containers, images, phase, ready, waiting, since, k,   i, n, cn, im, statuses, conds, spec, ip, ni) {
  n = split(containers, cn, ","); split(images, im, ",")
  statuses = ""
  for (i = 1; i <= n; i++) {
    statuses = statuses (i > 1 ? ", " : "") "{\"image\": " js(im[i]) ", \"imageID\": \"\", \"name\": " js(cn[i]) ", \"ready\": " (ready ? "true" : "false") ", \"restartCount\": " (waiting == "CrashLoopBackOff" ? 5 : 0) ", \"started\": " (phase == "Running" && waiting == "" ? "true" : "false") ", \"state\": " \
      (waiting == "" ? "{\"running\": {\"startedAt\": " js(ts(since)) "}}" : "{\"waiting\": {\"reason\": " js(waiting) (waiting == "CrashLoopBackOff" ? ", \"message\": " js("back-off 5m0s restarting failed container=" cn[i] " pod=" name "_" ns "(" uid("pod/" ns "/" name) ")") : "") "}}") "}"
  }
  if (node == "") conds = "{\"lastProbeTime\": null, \"lastTransitionTime\": " js(ts(since)) ", \"message\": " js(waiting) ", \"reason\": \"Unschedulable\", \"status\": \"False\", \"type\": \"PodScheduled\"}"
  else conds = "{\"lastProbeTime\": null, \"lastTransitionTime\": " js(ts(since)) ", \"status\": \"True\", \"type\": \"PodScheduled\"}, " \
    "{\"lastProbeTime\": null, \"lastTransitionTime\": " js(ts(since)) ", \"status\": \"True\", \"type\": \"Initialized\"}, " \
    "{\"lastProbeTime\": null, \"lastTransitionTime\": " js(ts(since)) (ready ? "" : ", \"message\": " js("containers with unready status: [" containers "]") ", \"reason\": \"ContainersNotReady\"") ", \"status\": " (ready ? "\"True\"" : "\"False\"") ", \"type\": \"Ready\"}, " \
    "{\"lastProbeTime\": null, \"lastTransitionTime\": " js(ts(since)) (ready ? "" : ", \"message\": " js("containers with unready status: [" containers "]") ", \"reason\": \"ContainersNotReady\"") ", \"status\": " (ready ? "\"True\"" : "\"False\"") ", \"type\": \"ContainersReady\"}"
  spec = "{\"containers\": ["
  for (i = 1; i <= n; i++) spec = spec (i > 1 ? ", " : "") "{\"image\": " js(im[i]) ", \"name\": " js(cn[i]) "}"
  spec = spec "]" (hostnet == "true" ? ", \"hostNetwork\": true" : "") (node == "" ? "" : ", \"nodeName\": " js(node)) "}"
  ni = node_index(node)
  ip = ""
  if (node != "" && phase == "Running") ip = hostnet == "true" ? host_ip(ni) : pod_ip(ni, k)
  POD_NS = ns; POD_NAME = name; POD_NODE = node; POD_OWNER = owner_kind
  return "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"creationTimestamp\": " js(ts(since)) ", \"labels\": " labels ", \"name\": " js(name) ", \"namespace\": " js(ns) ", " \
    "\"ownerReferences\": [{\"apiVersion\": " js(owner_api) ", \"blockOwnerDeletion\": true, \"controller\": true, \"kind\": " js(owner_kind) ", \"name\": " js(owner_name) ", \"uid\": " js(uid(owner_kind "/" ns "/" owner_name)) "}], " \
    "\"resourceVersion\": \"" (2000 + length(name) + ready) "\", \"uid\": " js(uid("pod/" ns "/" name)) "}, \"spec\": " spec ", " \
    "\"status\": {\"conditions\": [" conds "], " (statuses == "" || node == "" ? "" : "\"containerStatuses\": [" statuses "], ") (host_ip(ni) != "" ? "\"hostIP\": " js(host_ip(ni)) ", " : "") \
    "\"phase\": " js(phase) (ip == "" ? "" : ", \"podIP\": " js(ip) ", \"podIPs\": [{\"ip\": " js(ip) "}]") ", \"qosClass\": \"Burstable\"" (ni ? ", \"startTime\": " js(ts(since)) : "") "}}"
}

# After pod_json (which sets POD_*): kubectl drain needs where each pod runs and what owns it.
function add_pod(json) { npods++; pods[npods] = json; pns[npods] = POD_NS; pname[npods] = POD_NAME; pnode[npods] = POD_NODE; powner[npods] = POD_OWNER }
function add_event(ns, kind, name, reason, message, type, component, node, t,   id) {
  nevents++
  id = name "." hex8(name reason, 43) hex8(reason name, 47)
  events[nevents] = "{\"apiVersion\": \"v1\", \"count\": 1, \"eventTime\": null, \"firstTimestamp\": " js(ts(t)) ", \"involvedObject\": {\"apiVersion\": \"v1\", \"kind\": " js(kind) ", \"name\": " js(name) (ns == "" ? "" : ", \"namespace\": " js(ns)) ", \"uid\": " js(uid(tolower(kind) "/" ns "/" name)) "}, " \
    "\"kind\": \"Event\", \"lastTimestamp\": " js(ts(t)) ", \"message\": " js(message) ", \"metadata\": {\"creationTimestamp\": " js(ts(t)) ", \"name\": " js(id) ", \"namespace\": " js(ns == "" ? "default" : ns) ", \"resourceVersion\": \"" (3000 + nevents) "\", \"uid\": " js(uid("event/" id)) "}, " \
    "\"reason\": " js(reason) ", \"reportingComponent\": " js(component) ", \"reportingInstance\": " js(node) ", \"source\": {\"component\": " js(component) (node == "" ? "" : ", \"host\": " js(node)) "}, \"type\": " js(type) "}"
}

function build(   i, j, cp, ready_nodes, rs, name, waiting, phase, ready, since, k, msg, at, why, counts, reasons, nreasons, m, tmp) {
  cp = 0
  for (i = 1; i <= nnodes; i++) if (nrole[i] == "control-plane") cp = i
  for (i = 1; i <= nnodes; i++) {
    add_event("", "Node", nname[i], "Starting", "Starting kubelet.", "Normal", "kubelet", nname[i], nreg[i])
    add_event("", "Node", nname[i], "RegisteredNode", "Node " nname[i] " event: Registered Node " nname[i] " in Controller", "Normal", "node-controller", "", nreg[i])
    add_event("", "Node", nname[i], "NodeNotReady", "Node " nname[i] " status is now: NodeNotReady", "Normal", "kubelet", nname[i], nreg[i])
    if (node_ready(i)) add_event("", "Node", nname[i], "NodeReady", "Node " nname[i] " status is now: NodeReady", "Normal", "kubelet", nname[i], node_ready_at(i))
    if (ncordon[i]) add_event("", "Node", nname[i], "NodeNotSchedulable", "Node " nname[i] " status is now: NodeNotSchedulable", "Normal", "kubelet", nname[i], ncordon[i])
  }
  if (cp) {
    split("etcd kube-apiserver kube-controller-manager kube-scheduler", statics, " ")
    for (j = 1; j <= 4; j++) {
      name = statics[j] "-" nname[cp]
      add_pod(pod_json("kube-system", name, "{\"component\": " js(statics[j]) ", \"tier\": \"control-plane\"}", "Node", nname[cp], "v1", nname[cp], "true", statics[j], "registry.k8s.io/" statics[j] ":" (statics[j] == "etcd" ? "3.6.5-0" : c["kubernetesVersion"]), "Running", 1, "", nreg[cp], 0))
    }
  }
  if (c["proxyDisabled"] != "true") {
    for (i = 1; i <= nnodes; i++) {
      name = "kube-proxy-" suffix("kube-proxy/" nname[i], 5)
      if (c["proxyConntrackOK"] == "true") add_pod(pod_json("kube-system", name, "{\"controller-revision-hash\": \"6d4b4c6b5f\", \"k8s-app\": \"kube-proxy\", \"pod-template-generation\": \"1\"}", "DaemonSet", "kube-proxy", "apps/v1", nname[i], "true", "kube-proxy", "registry.k8s.io/kube-proxy:" c["kubernetesVersion"], "Running", 1, "", nreg[i], 0))
      else {
        add_pod(pod_json("kube-system", name, "{\"controller-revision-hash\": \"6d4b4c6b5f\", \"k8s-app\": \"kube-proxy\", \"pod-template-generation\": \"1\"}", "DaemonSet", "kube-proxy", "apps/v1", nname[i], "true", "kube-proxy", "registry.k8s.io/kube-proxy:" c["kubernetesVersion"], "Running", 0, "CrashLoopBackOff", nreg[i], 0))
        add_event("kube-system", "Pod", name, "BackOff", "Back-off restarting failed container kube-proxy in pod " name "_kube-system(" uid("pod/kube-system/" name) ")", "Warning", "kubelet", nname[i], now)
      }
    }
  }
  for (j = 1; j <= nds; j++) {
    for (i = 1; i <= nnodes; i++) {
      # Placed on a NotReady node only if it tolerates the not-ready taint too; else once the node is Ready.
      since = ds_since(i, j, "," NOT_READY_TAINT)
      if (!since) {
        if (!node_ready(i) || !(since = ds_since(i, j, ""))) continue
        if (node_ready_at(i) > since) since = node_ready_at(i)
      }
      name = dname[j] "-" suffix(dns[j] "/" dname[j] "/" nname[i], 5)
      at = since + READY_DELAY
      if (notready_mode()) { phase = "Running"; ready = 0; waiting = "CrashLoopBackOff" }
      else if (now >= at) { phase = "Running"; ready = 1; waiting = "" }
      else { phase = "Pending"; ready = 0; waiting = "ContainerCreating" }
      add_pod(pod_json(dns[j], name, labels_json(dlabels[j] ",controller-revision-hash=" substr(hex8(dname[j], 53), 1, 8) ",pod-template-generation=1", ""), "DaemonSet", dname[j], "apps/v1", nname[i], dhost[j], dcont[j], dimg[j], phase, ready, waiting, since, 10 + j))
      if (waiting == "CrashLoopBackOff") {
        split(dcont[j], first, ",")
        add_event(dns[j], "Pod", name, "BackOff", "Back-off restarting failed container " first[1] " in pod " name "_" dns[j] "(" uid("pod/" dns[j] "/" name) ")", "Warning", "kubelet", nname[i], now)
      }
      if (!node_ready(i) && dhost[j] != "true")
        add_event(dns[j], "Pod", name, "NetworkNotReady", "network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", "Warning", "kubelet", nname[i], now)
    }
  }
  if (c["dnsDisabled"] != "true") {
    rs = "coredns-" suffix("coredns-rs", 10)
    ready_nodes = 0
    nreasons = 0
    for (i = 1; i <= nnodes; i++) {
      # A NotReady node carries the not-ready taint, which CoreDNS does not tolerate.
      why = dns_unfit(i)
      if (why == "") { ready_list[++ready_nodes] = i; continue }
      if (!(why in counts)) reasons[++nreasons] = why
      counts[why]++
    }
    # The scheduler's FitError: "<count> <reason>" items, sorted as strings.
    for (m = 1; m <= nreasons; m++) reasons[m] = counts[reasons[m]] " " reasons[m]
    for (m = 2; m <= nreasons; m++) for (j = m; j > 1 && reasons[j - 1] > reasons[j]; j--) { tmp = reasons[j]; reasons[j] = reasons[j - 1]; reasons[j - 1] = tmp }
    msg = ""
    for (m = 1; m <= nreasons; m++) msg = msg (m > 1 ? ", " : "") reasons[m]
    for (k = 1; k <= 2; k++) {
      name = rs "-" suffix("coredns/" k, 5)
      if (ready_nodes) {
        i = ready_list[(k - 1) % ready_nodes + 1]
        add_pod(pod_json("kube-system", name, "{\"k8s-app\": \"kube-dns\", \"pod-template-hash\": " js(substr(rs, 9)) "}", "ReplicaSet", rs, "apps/v1", nname[i], "false", "coredns", "registry.k8s.io/coredns/coredns:v1.14.3", "Running", 1, "", node_ready_at(i), k))
      } else {
        msg = "0/" nnodes " nodes are available: " msg ". preemption: 0/" nnodes " nodes are available: " nnodes " Preemption is not helpful for scheduling."
        add_pod(pod_json("kube-system", name, "{\"k8s-app\": \"kube-dns\", \"pod-template-hash\": " js(substr(rs, 9)) "}", "ReplicaSet", rs, "apps/v1", "", "false", "coredns", "registry.k8s.io/coredns/coredns:v1.14.3", "Pending", 0, msg, c["initAt"] + 0, k))
        add_event("kube-system", "Pod", name, "FailedScheduling", msg, "Warning", "default-scheduler", "", now)
      }
    }
  }
}

function list(items, n,   i, out) {
  out = "{\n    \"apiVersion\": \"v1\",\n    \"items\": ["
  for (i = 1; i <= n; i++) out = out (i > 1 ? "," : "") "\n        " items[i]
  return out (n ? "\n    " : "") "],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}"
}

END {
  compute_ready()
  build()
  if (what == "nodes") { for (i = 1; i <= nnodes; i++) items[i] = node_json(i); print list(items, nnodes) }
  else if (what == "pods") print list(pods, npods)
  else if (what == "events") print list(events, nevents)
  else if (what == "addresses") {
    n = split(addresses(node_index(node)), list, ",")
    for (k = 1; k <= n; k++) { type = list[k]; sub(/=.*/, "", type); print type "\t" substr(list[k], length(type) + 2) }
  } else if (what == "drain")
    for (k = 1; k <= npods; k++)
      if (pnode[k] == node) print (powner[k] == "DaemonSet" ? "DS" : powner[k] == "Node" ? "MIRROR" : "EVICT") "\t" pns[k] "/" pname[k]
}
