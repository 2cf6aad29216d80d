# `kubectl get nodes|pods|events -o json` of the stand-in cluster, from a dump of its state:
#   C <key> <value>                                          /var/lib/standin/cluster
#   NODE <name> <role> <address> <registeredAt> <labels k=v,...> <taints default|none|k=v:Effect,...>
#   DS <namespace> <name> <appliedAt> <labels> <container names> <images> <tolerates control plane yes|no> <hostNetwork>
# -v what=nodes|pods|events -v now=<epoch seconds> -v kernel=<uname -r>
#
# The model: nodes are NotReady (no CNI) until a DaemonSet has been applied (any DaemonSet counts as the CNI); then each
# node, and each pod of a DaemonSet, becomes Ready READY_DELAY seconds after the later of the DaemonSet's apply and the
# node's registration. clusterName standin-notready*: they never do. CoreDNS waits for a Ready node; the static pods and
# kube-proxy run at once (kube-proxy crash-loops when conntrack.maxPerCore is not 0: a user namespace cannot set it).
BEGIN {
  FS = "\t"
  READY_DELAY = 2
  nnodes = 0
  nds = 0
  cni = 0
  for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i
  ALNUM = "bcdfghjklmnpqrstvwxz2456789"
}

$1 == "C" { c[$2] = $3; next }
$1 == "NODE" {
  nnodes++
  nname[nnodes] = $2; nrole[nnodes] = $3; naddr[nnodes] = $4; nreg[nnodes] = $5 + 0; nlabels[nnodes] = $6; ntaints[nnodes] = $7
  next
}
$1 == "DS" {
  nds++
  dns[nds] = $2; dname[nds] = $3; dat[nds] = $4 + 0; dlabels[nds] = $5; dcont[nds] = $6; dimg[nds] = $7; dtol[nds] = $8; dhost[nds] = $9
  if (!cni || $4 + 0 < cni) cni = $4 + 0
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

function notready_mode() { return c["clusterName"] ~ /^standin-notready/ }
function node_ready_at(i) {
  if (!cni || notready_mode()) return 0
  return (cni > nreg[i] ? cni : nreg[i]) + READY_DELAY
}
function node_ready(i) { return node_ready_at(i) && now >= node_ready_at(i) }
function node_index(name,   i) { for (i = 1; i <= nnodes; i++) if (nname[i] == name) return i; return 0 }

# Taints as the node carries them: its own, plus node.kubernetes.io/not-ready while NotReady.
function taints_json(i,   out, n, parts, j, t, key, value, effect) {
  out = ""
  if (ntaints[i] == "default" && nrole[i] == "control-plane") out = "{\"effect\": \"NoSchedule\", \"key\": \"node-role.kubernetes.io/control-plane\"}"
  else if (ntaints[i] != "default" && ntaints[i] != "none" && ntaints[i] != "") {
    n = split(ntaints[i], parts, ",")
    for (j = 1; j <= n; j++) {
      t = parts[j]; effect = t; sub(/.*:/, "", effect); sub(/:[^:]*$/, "", t)
      key = t; sub(/=.*/, "", key); value = t; sub(/^[^=]*=?/, "", value)
      out = out (out == "" ? "" : ", ") "{\"effect\": " js(effect) ", \"key\": " js(key) (value == "" ? "" : ", \"value\": " js(value)) "}"
    }
  }
  if (!node_ready(i)) out = out (out == "" ? "" : ", ") "{\"effect\": \"NoSchedule\", \"key\": \"node.kubernetes.io/not-ready\"}"
  return out
}
function cp_tainted(i) { return nrole[i] == "control-plane" && ntaints[i] == "default" || (ntaints[i] ~ /NoSchedule/ && ntaints[i] != "default" && ntaints[i] != "none") }

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

function node_json(i,   labels, ready, conds, taints, cidr) {
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
  return "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"annotations\": {\"kubeadm.alpha.kubernetes.io/cri-socket\": \"unix:///run/containerd/containerd.sock\", \"node.alpha.kubernetes.io/ttl\": \"0\", \"volumes.kubernetes.io/controller-managed-attach-detach\": \"true\"}, " \
    "\"creationTimestamp\": " js(ts(nreg[i])) ", \"labels\": " labels_json(nlabels[i], labels) ", \"name\": " js(nname[i]) ", \"resourceVersion\": \"" (1000 + i * 7 + (ready ? 1 : 0)) "\", \"uid\": " js(uid("node/" nname[i])) "}, " \
    "\"spec\": {" (cidr == "" ? "" : "\"podCIDR\": " js(cidr) ", \"podCIDRs\": [" js(cidr) "]" (taints == "" ? "" : ", ")) (taints == "" ? "" : "\"taints\": [" taints "]") "}, " \
    "\"status\": {\"addresses\": [{\"address\": " js(naddr[i]) ", \"type\": \"InternalIP\"}, {\"address\": " js(nname[i]) ", \"type\": \"Hostname\"}], " \
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
  if (node != "" && phase == "Running") ip = hostnet == "true" ? naddr[ni] : pod_ip(ni, k)
  return "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"creationTimestamp\": " js(ts(since)) ", \"labels\": " labels ", \"name\": " js(name) ", \"namespace\": " js(ns) ", " \
    "\"ownerReferences\": [{\"apiVersion\": " js(owner_api) ", \"blockOwnerDeletion\": true, \"controller\": true, \"kind\": " js(owner_kind) ", \"name\": " js(owner_name) ", \"uid\": " js(uid(owner_kind "/" ns "/" owner_name)) "}], " \
    "\"resourceVersion\": \"" (2000 + length(name) + ready) "\", \"uid\": " js(uid("pod/" ns "/" name)) "}, \"spec\": " spec ", " \
    "\"status\": {\"conditions\": [" conds "], " (statuses == "" || node == "" ? "" : "\"containerStatuses\": [" statuses "], ") (ni ? "\"hostIP\": " js(naddr[ni]) ", " : "") \
    "\"phase\": " js(phase) (ip == "" ? "" : ", \"podIP\": " js(ip) ", \"podIPs\": [{\"ip\": " js(ip) "}]") ", \"qosClass\": \"Burstable\"" (ni ? ", \"startTime\": " js(ts(since)) : "") "}}"
}

function add_pod(json) { npods++; pods[npods] = json }
function add_event(ns, kind, name, reason, message, type, component, node, t,   id) {
  nevents++
  id = name "." hex8(name reason, 43) hex8(reason name, 47)
  events[nevents] = "{\"apiVersion\": \"v1\", \"count\": 1, \"eventTime\": null, \"firstTimestamp\": " js(ts(t)) ", \"involvedObject\": {\"apiVersion\": \"v1\", \"kind\": " js(kind) ", \"name\": " js(name) (ns == "" ? "" : ", \"namespace\": " js(ns)) ", \"uid\": " js(uid(tolower(kind) "/" ns "/" name)) "}, " \
    "\"kind\": \"Event\", \"lastTimestamp\": " js(ts(t)) ", \"message\": " js(message) ", \"metadata\": {\"creationTimestamp\": " js(ts(t)) ", \"name\": " js(id) ", \"namespace\": " js(ns == "" ? "default" : ns) ", \"resourceVersion\": \"" (3000 + nevents) "\", \"uid\": " js(uid("event/" id)) "}, " \
    "\"reason\": " js(reason) ", \"reportingComponent\": " js(component) ", \"reportingInstance\": " js(node) ", \"source\": {\"component\": " js(component) (node == "" ? "" : ", \"host\": " js(node)) "}, \"type\": " js(type) "}"
}

function build(   i, j, cp, ready_nodes, rs, name, waiting, phase, ready, since, k, unsched, nodes_tainted, msg, at) {
  cp = 0
  for (i = 1; i <= nnodes; i++) if (nrole[i] == "control-plane") cp = i
  for (i = 1; i <= nnodes; i++) {
    add_event("", "Node", nname[i], "Starting", "Starting kubelet.", "Normal", "kubelet", nname[i], nreg[i])
    add_event("", "Node", nname[i], "RegisteredNode", "Node " nname[i] " event: Registered Node " nname[i] " in Controller", "Normal", "node-controller", "", nreg[i])
    add_event("", "Node", nname[i], "NodeNotReady", "Node " nname[i] " status is now: NodeNotReady", "Normal", "kubelet", nname[i], nreg[i])
    if (node_ready(i)) add_event("", "Node", nname[i], "NodeReady", "Node " nname[i] " status is now: NodeReady", "Normal", "kubelet", nname[i], node_ready_at(i))
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
      if (cp_tainted(i) && dtol[j] != "yes") continue
      name = dname[j] "-" suffix(dns[j] "/" dname[j] "/" nname[i], 5)
      since = dat[j] > nreg[i] ? dat[j] : nreg[i]
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
    for (i = 1; i <= nnodes; i++) if (node_ready(i)) ready_list[++ready_nodes] = i
    for (k = 1; k <= 2; k++) {
      name = rs "-" suffix("coredns/" k, 5)
      if (ready_nodes) {
        i = ready_list[(k - 1) % ready_nodes + 1]
        add_pod(pod_json("kube-system", name, "{\"k8s-app\": \"kube-dns\", \"pod-template-hash\": " js(substr(rs, 9)) "}", "ReplicaSet", rs, "apps/v1", nname[i], "false", "coredns", "registry.k8s.io/coredns/coredns:v1.14.3", "Running", 1, "", node_ready_at(i), k))
      } else {
        msg = "0/" nnodes " nodes are available: " nnodes " node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/" nnodes " nodes are available: " nnodes " Preemption is not helpful for scheduling."
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
  build()
  if (what == "nodes") { for (i = 1; i <= nnodes; i++) items[i] = node_json(i); print list(items, nnodes) }
  else if (what == "pods") print list(pods, npods)
  else if (what == "events") print list(events, nevents)
}
