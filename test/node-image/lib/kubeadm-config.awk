# Checks a flattened kubeadm --config stream (yaml.awk's output) as kubeadm v1.37 reads it, and prints either
#   F <name> <value>         facts the stand-in kubeadm acts on
#   T <token> <ttl> <expires> <description>   one bootstrap token of an InitConfiguration
#   X <exit code> <line>     an error, one line per X record, as kubeadm prints it
# -v mode=init|join; -v host=<the node's hostname> (kubeadm's default node name).
#
# The field allowlists are the real types' JSON names (../../shared/research/kube-facts.md sections 1-3): kubeadm
# v1beta4 InitConfiguration, ClusterConfiguration and JoinConfiguration in full, KubeProxyConfiguration v1alpha1 in
# full; KubeletConfiguration v1beta1's every top-level field, with the nested types of those rootlet sets checked.
# Types: m struct, l list, s string, i integer, b bool, d Go duration, t RFC 3339 time, a anything (not looked into).
BEGIN {
  FS = "\t"
  SEP = "\037"
  ndocs = 0
  errors = 0

  # kubeadm.k8s.io/v1beta4, shared types
  nro("InitConfiguration", "nodeRegistration")
  nro("JoinConfiguration", "nodeRegistration")
  timeouts("InitConfiguration")
  timeouts("JoinConfiguration")

  K = "InitConfiguration"
  f("bootstrapTokens", "l"); f("bootstrapTokens[]", "m")
  f("bootstrapTokens[].token", "s"); f("bootstrapTokens[].description", "s"); f("bootstrapTokens[].ttl", "d")
  f("bootstrapTokens[].expires", "t"); f("bootstrapTokens[].usages", "l"); f("bootstrapTokens[].usages[]", "s")
  f("bootstrapTokens[].groups", "l"); f("bootstrapTokens[].groups[]", "s")
  f("dryRun", "b")
  f("localAPIEndpoint", "m"); f("localAPIEndpoint.advertiseAddress", "s"); f("localAPIEndpoint.bindPort", "i")
  f("certificateKey", "s")
  f("skipPhases", "l"); f("skipPhases[]", "s")
  f("patches", "m"); f("patches.directory", "s")

  K = "ClusterConfiguration"
  f("etcd", "m"); f("etcd.local", "m")
  f("etcd.local.imageRepository", "s"); f("etcd.local.imageTag", "s"); f("etcd.local.dataDir", "s")
  args("etcd.local.extraArgs"); envs("etcd.local.extraEnvs")
  f("etcd.local.serverCertSANs", "l"); f("etcd.local.serverCertSANs[]", "s")
  f("etcd.local.peerCertSANs", "l"); f("etcd.local.peerCertSANs[]", "s")
  f("etcd.external", "m"); f("etcd.external.endpoints", "l"); f("etcd.external.endpoints[]", "s")
  f("etcd.external.caFile", "s"); f("etcd.external.certFile", "s"); f("etcd.external.keyFile", "s")
  f("networking", "m"); f("networking.serviceSubnet", "s"); f("networking.podSubnet", "s"); f("networking.dnsDomain", "s")
  f("kubernetesVersion", "s"); f("controlPlaneEndpoint", "s")
  component("apiServer"); f("apiServer.certSANs", "l"); f("apiServer.certSANs[]", "s")
  component("controllerManager"); component("scheduler")
  f("dns", "m"); f("dns.imageRepository", "s"); f("dns.imageTag", "s"); f("dns.disabled", "b")
  f("proxy", "m"); f("proxy.disabled", "b")
  f("certificatesDir", "s"); f("imageRepository", "s")
  f("featureGates", "m"); f("featureGates.*", "b")
  f("clusterName", "s"); f("encryptionAlgorithm", "s")
  f("certificateValidityPeriod", "d"); f("caCertificateValidityPeriod", "d")

  K = "JoinConfiguration"
  f("dryRun", "b"); f("caCertPath", "s")
  f("discovery", "m"); f("discovery.bootstrapToken", "m")
  f("discovery.bootstrapToken.token", "s"); f("discovery.bootstrapToken.apiServerEndpoint", "s")
  f("discovery.bootstrapToken.caCertHashes", "l"); f("discovery.bootstrapToken.caCertHashes[]", "s")
  f("discovery.bootstrapToken.unsafeSkipCAVerification", "b")
  f("discovery.file", "m"); f("discovery.file.kubeConfigPath", "s"); f("discovery.tlsBootstrapToken", "s")
  f("controlPlane", "m"); f("controlPlane.localAPIEndpoint", "m")
  f("controlPlane.localAPIEndpoint.advertiseAddress", "s"); f("controlPlane.localAPIEndpoint.bindPort", "i")
  f("controlPlane.certificateKey", "s")
  f("skipPhases", "l"); f("skipPhases[]", "s")
  f("patches", "m"); f("patches.directory", "s")

  K = "KubeletConfiguration"
  split("enableServer staticPodPath podLogsDir syncFrequency fileCheckFrequency httpCheckFrequency staticPodURL " \
    "staticPodURLHeader address readOnlyPort tlsCertFile tlsPrivateKeyFile tlsCipherSuites tlsMinVersion " \
    "rotateCertificates serverTLSBootstrap authentication authorization registryPullQPS registryBurst " \
    "imagePullCredentialsVerificationPolicy preloadedImagesVerificationAllowlist eventRecordQPS eventBurst " \
    "enableDebuggingHandlers enableContentionProfiling healthzPort healthzBindAddress oomScoreAdj clusterDomain " \
    "clusterDNS streamingConnectionIdleTimeout nodeStatusUpdateFrequency nodeStatusReportFrequency " \
    "nodeLeaseDurationSeconds imageMinimumGCAge imageMaximumGCAge imageGCLowThresholdPercent volumeStatsAggPeriod " \
    "kubeletCgroups systemCgroups cgroupsPerQOS cpuManagerPolicy singleProcessOOMKill cpuManagerPolicyOptions " \
    "cpuManagerReconcilePeriod memoryManagerPolicy topologyManagerPolicy topologyManagerScope " \
    "topologyManagerPolicyOptions qosReserved runtimeRequestTimeout hairpinMode podCIDR podPidsLimit resolvConf " \
    "runOnce cpuCFSQuota cpuCFSQuotaPeriod nodeStatusMaxImages maxOpenFiles contentType kubeAPIQPS kubeAPIBurst " \
    "serializeImagePulls maxParallelImagePulls evictionSoft evictionSoftGracePeriod evictionPressureTransitionPeriod " \
    "evictionMaxPodGracePeriod evictionMinimumReclaim mergeDefaultEvictionSettings podsPerCore " \
    "enableControllerAttachDetach protectKernelDefaults makeIPTablesUtilChains iptablesMasqueradeBit iptablesDropBit " \
    "memorySwap containerLogMaxSize containerLogMaxFiles containerLogMaxWorkers containerLogMonitorInterval " \
    "configMapAndSecretChangeDetectionStrategy systemReserved kubeReserved reservedSystemCPUs " \
    "showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup enforceNodeAllocatable allowedUnsafeSysctls " \
    "volumePluginDir providerID kernelMemcgNotification logging enableSystemLogHandler enableSystemLogQuery " \
    "shutdownGracePeriod shutdownGracePeriodCriticalPods shutdownGracePeriodByPodPriority crashLoopBackOff " \
    "reservedMemory enableProfilingHandler enableDebugFlagsHandler seccompDefault memoryThrottlingFactor " \
    "registerWithTaints registerNode tracing imageServiceEndpoint", loose, " ")
  for (n in loose) f(loose[n], "a")
  f("featureGates", "m"); f("featureGates.*", "b")
  f("failSwapOn", "b"); f("cgroupDriver", "s"); f("cgroupRoot", "s"); f("port", "i")
  f("evictionHard", "m"); f("evictionHard.*", "s")
  f("imageGCHighThresholdPercent", "i"); f("maxPods", "i"); f("containerRuntimeEndpoint", "s")
  f("userNamespaces", "m"); f("userNamespaces.idsPerPod", "i")
  f("failCgroupV1", "b"); f("localStorageCapacityIsolation", "b")

  K = "KubeProxyConfiguration"
  f("featureGates", "m"); f("featureGates.*", "b")
  f("clientConnection", "a"); f("logging", "a"); f("ipvs", "a"); f("winkernel", "a"); f("detectLocal", "a")
  f("bindAddress", "s"); f("healthzBindAddress", "s"); f("metricsBindAddress", "s"); f("bindAddressHardFail", "b")
  f("enableProfiling", "b"); f("showHiddenMetricsForVersion", "s"); f("mode", "s")
  split("iptables nftables", rules, " ")
  for (n in rules) {
    f(rules[n], "m"); f(rules[n] ".masqueradeBit", "i"); f(rules[n] ".masqueradeAll", "b")
    f(rules[n] ".syncPeriod", "d"); f(rules[n] ".minSyncPeriod", "d")
  }
  f("iptables.localhostNodePorts", "b")
  f("detectLocalMode", "s"); f("clusterCIDR", "s"); f("nodePortAddresses", "l"); f("nodePortAddresses[]", "s")
  f("oomScoreAdj", "i"); f("configSyncPeriod", "d"); f("portRange", "s"); f("windowsRunAsService", "b")
  f("conntrack", "m"); f("conntrack.maxPerCore", "i"); f("conntrack.min", "i")
  f("conntrack.tcpEstablishedTimeout", "d"); f("conntrack.tcpCloseWaitTimeout", "d"); f("conntrack.tcpBeLiberal", "b")
  f("conntrack.udpTimeout", "d"); f("conntrack.udpStreamTimeout", "d")

  gv["InitConfiguration"] = "kubeadm.k8s.io/v1beta4"
  gv["ClusterConfiguration"] = "kubeadm.k8s.io/v1beta4"
  gv["JoinConfiguration"] = "kubeadm.k8s.io/v1beta4"
  gv["KubeletConfiguration"] = "kubelet.config.k8s.io/v1beta1"
  gv["KubeProxyConfiguration"] = "kubeproxy.config.k8s.io/v1alpha1"
  gotype["s"] = "string"; gotype["i"] = "int32"; gotype["b"] = "bool"; gotype["d"] = "v1.Duration"
  gotype["t"] = "v1.Time"; gotype["m"] = "struct"; gotype["l"] = "slice"
}

function f(path, type) { schema[K, path] = type }
function nro(kind, p) {
  K = kind
  f(p, "m"); f(p ".name", "s"); f(p ".criSocket", "s")
  f(p ".taints", "l"); f(p ".taints[]", "m"); f(p ".taints[].key", "s"); f(p ".taints[].value", "s")
  f(p ".taints[].effect", "s"); f(p ".taints[].timeAdded", "t")
  args(p ".kubeletExtraArgs")
  f(p ".ignorePreflightErrors", "l"); f(p ".ignorePreflightErrors[]", "s")
  f(p ".imagePullPolicy", "s"); f(p ".imagePullSerial", "b")
}
function timeouts(kind,   names, n) {
  K = kind
  f("timeouts", "m")
  split("controlPlaneComponentHealthCheck kubeletHealthCheck kubernetesAPICall etcdAPICall tlsBootstrap discovery upgradeManifests", names, " ")
  for (n in names) f("timeouts." names[n], "d")
}
function args(p) { f(p, "l"); f(p "[]", "m"); f(p "[].name", "s"); f(p "[].value", "s") }
function envs(p) { f(p, "l"); f(p "[]", "m"); f(p "[].name", "s"); f(p "[].value", "s"); f(p "[].valueFrom", "a") }
function component(p) {
  f(p, "m"); args(p ".extraArgs"); envs(p ".extraEnvs")
  f(p ".extraVolumes", "l"); f(p ".extraVolumes[]", "m")
  f(p ".extraVolumes[].name", "s"); f(p ".extraVolumes[].hostPath", "s"); f(p ".extraVolumes[].mountPath", "s")
  f(p ".extraVolumes[].readOnly", "b"); f(p ".extraVolumes[].pathType", "s")
}

function fail(code, message) {
  if (!errors) first_code = code
  errors++
  errtext[errors] = message
}

function unesc(s,   out, i, c, n) {
  if (!index(s, "\\")) return s
  out = ""
  n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\\" && i < n) { c = substr(s, ++i, 1); out = out (c == "n" ? "\n" : c == "t" ? "\t" : c) }
    else out = out c
  }
  return out
}

function display(path,   out, n, i, segs) {
  n = split(path, segs, SEP)
  out = ""
  for (i = 1; i <= n; i++) out = (segs[i] ~ /^\[[0-9]+\]$/ || out == "") ? out segs[i] : out "." segs[i]
  return out
}

function gvk_v(g, k,   group, version) {
  group = g; version = g
  if (index(g, "/")) { sub(/\/.*/, "", group); sub(/.*\//, "", version) } else group = ""
  return "schema.GroupVersionKind{Group:\"" group "\", Version:\"" version "\", Kind:\"" k "\"}"
}

function gvk_plus(g, k,   group, version) {
  group = g; version = g
  if (index(g, "/")) { sub(/\/.*/, "", group); sub(/.*\//, "", version) } else group = ""
  return "{Group:" group " Version:" version " Kind:" k "}"
}

$1 == "E" { fail(1, "error converting YAML to JSON: yaml: line " $2 ": " $3); next }
$1 == "D" { ndocs++; nrec[ndocs] = 0; next }
$1 == "N" {
  i = ++nrec[ndocs]
  rp[ndocs, i] = $2; rt[ndocs, i] = $3; rv[ndocs, i] = unesc($4)
  val[ndocs, $2] = unesc($4); typ[ndocs, $2] = $3
  next
}

# YAML 1.1 as sigs.k8s.io/yaml resolves unquoted scalars: which JSON type a plain value becomes.
function json_kind(type, v) {
  if (type == "null") return "null"
  if (type == "str") return "string"
  if (v ~ /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/) return "bool"
  if (v ~ /^[-+]?[0-9]+$/ || v ~ /^[-+]?0x[0-9a-fA-F]+$/ || v ~ /^[-+]?0o?[0-7]+$/) return "number"
  if (v ~ /^[-+]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][-+]?[0-9]+)?$/ || v ~ /^[-+]?\.(inf|Inf|INF)$/ || v ~ /^\.(nan|NaN|NAN)$/) return "number"
  return "string"
}

function is_duration(v,   rest) {
  if (v == "0") return 1
  rest = v
  sub(/^[-+]/, "", rest)
  if (rest == "") return 0
  while (rest != "") {
    if (!match(rest, /^([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h)/)) return 0
    rest = substr(rest, RLENGTH + 1)
  }
  return 1
}

# Seconds in a Go duration (no sign; fractions truncated at the end).
function duration_seconds(v,   rest, total, num, unit) {
  if (v == "0") return 0
  rest = v; total = 0
  while (rest != "") {
    match(rest, /^([0-9]+(\.[0-9]*)?|\.[0-9]+)/)
    num = substr(rest, 1, RLENGTH) + 0
    rest = substr(rest, RLENGTH + 1)
    match(rest, /^(ns|us|µs|ms|s|m|h)/)
    unit = substr(rest, 1, RLENGTH)
    rest = substr(rest, RLENGTH + 1)
    if (unit == "h") total += num * 3600
    else if (unit == "m") total += num * 60
    else if (unit == "s") total += num
    else if (unit == "ms") total += num / 1000
  }
  return int(total)
}

# The schema entry of a concrete path, or "" for an unknown field; sets AT to the generalized path.
function lookup(kind, path,   n, segs, i, gen, cand) {
  n = split(path, segs, SEP)
  gen = ""
  for (i = 1; i <= n; i++) {
    if (segs[i] ~ /^\[[0-9]+\]$/) cand = gen "[]"
    else cand = gen == "" ? segs[i] : gen "." segs[i]
    if ((kind, cand) in schema) gen = cand
    else if ((kind, (gen == "" ? "*" : gen ".*")) in schema && segs[i] !~ /^\[/) gen = gen == "" ? "*" : gen ".*"
    else { UNKNOWN = i; return "" }
    if (schema[kind, gen] == "a") { AT = gen; return "a" }
  }
  AT = gen
  return schema[kind, gen]
}

function check_doc(d, kind, g,   i, path, type, v, want, unknown, jk, prefix, n, segs, j) {
  unknown = ""
  prefix = "error unmarshaling configuration " gvk_v(g, kind) ": "
  for (i = 1; i <= nrec[d]; i++) {
    path = rp[d, i]; type = rt[d, i]; v = rv[d, i]
    if (path == "" || path == "apiVersion" || path == "kind") continue
    want = lookup(kind, path)
    if (want == "") {
      # Report the unknown key itself, once, not everything under it.
      n = split(path, segs, SEP)
      path = segs[1]
      for (j = 2; j <= UNKNOWN; j++) path = path SEP segs[j]
      if (!((d, path) in reported)) { reported[d, path] = 1; unknown = unknown (unknown == "" ? "" : ", ") "unknown field \"" display(path) "\"" }
      continue
    }
    if (want == "a") continue
    if (type == "map" || type == "seq") {
      if ((want == "m" && type == "map") || (want == "l" && type == "seq")) continue
      fail(1, prefix "json: cannot unmarshal " (type == "map" ? "object" : "array") " into Go struct field " kind "." display(path) " of type " gotype[want])
      continue
    }
    jk = json_kind(type, v)
    if (jk == "null") continue
    if (want == "m" || want == "l") { fail(1, prefix "json: cannot unmarshal " jk " into Go struct field " kind "." display(path) " of type " gotype[want]); continue }
    if (want == "s" && jk != "string") { fail(1, prefix "json: cannot unmarshal " jk " into Go struct field " kind "." display(path) " of type string"); continue }
    if (want == "i" && (jk != "number" || v !~ /^[-+]?[0-9]+$/)) { fail(1, prefix "json: cannot unmarshal " jk " into Go struct field " kind "." display(path) " of type int32"); continue }
    if (want == "b" && jk != "bool") { fail(1, prefix "json: cannot unmarshal " jk " into Go struct field " kind "." display(path) " of type bool"); continue }
    if (want == "d") {
      if (jk != "string") { fail(1, prefix "json: cannot unmarshal " jk " into Go value of type string"); continue }
      if (!is_duration(v)) { fail(1, prefix "time: invalid duration \"" v "\""); continue }
    }
    if (want == "t" && (jk != "string" || v !~ /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})$/))
      fail(1, prefix "parsing time \"" v "\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"" v "\" as \"2006\"")
  }
  if (unknown != "") fail(1, prefix "strict decoding error: " unknown)
}

function has(d, path) { return (d, path) in typ && typ[d, path] != "null" }
function get(d, path) { return has(d, path) ? val[d, path] : "" }
function p(a, b, c, d, e) {
  return a (b == "" ? "" : SEP b) (c == "" ? "" : SEP c) (d == "" ? "" : SEP d) (e == "" ? "" : SEP e)
}

function is_ip(v,   parts, n, i) {
  if (v ~ /:/) return v ~ /^[0-9a-fA-F:.]+$/ && v ~ /:.*:/
  n = split(v, parts, ".")
  if (n != 4) return 0
  for (i = 1; i <= 4; i++) if (parts[i] !~ /^[0-9]+$/ || parts[i] + 0 > 255) return 0
  return 1
}
function is_cidr(v,   ip, bits) {
  if (v !~ /\//) return 0
  ip = v; sub(/\/.*/, "", ip); bits = v; sub(/.*\//, "", bits)
  if (!is_ip(ip) || bits !~ /^[0-9]+$/) return 0
  return ip ~ /:/ ? bits + 0 <= 128 : bits + 0 <= 32
}
function is_dns1123_subdomain(v) { return length(v) <= 253 && v ~ /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/ }
function is_hostport(v,   host, port) {
  if (v ~ /^\[/) { if (v !~ /^\[[0-9a-fA-F:.]+\]:[0-9]+$/) return 0; port = v; sub(/.*\]:/, "", port) }
  else {
    if (split(v, parts, ":") != 2) return 0
    host = parts[1]; port = parts[2]
    if (host == "" || port !~ /^[0-9]+$/) return 0
  }
  return port + 0 >= 1 && port + 0 <= 65535
}
function version_ok(v,   parts) {
  if (v !~ /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$/) return 0
  sub(/^v/, "", v)
  split(v, parts, ".")
  return parts[1] + 0 > 1 || (parts[1] + 0 == 1 && parts[2] + 0 >= 36)
}

# NodeRegistrationOptions, shared by init and join.
function node_registration(d, field,   name, i, base, labels, flags, argname, effect, cloud, nodeip, flag) {
  name = get(d, p("nodeRegistration", "name"))
  if (name == "") name = tolower(host)
  if (!is_dns1123_subdomain(name))
    fail(3, "nodeRegistration.name: Invalid value: \"" name "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
  print "F\tnodeName\t" name
  v = get(d, p("nodeRegistration", "criSocket"))
  if (v != "" && v !~ /^unix:\/\/\// && v !~ /^\//)
    fail(3, "nodeRegistration.criSocket: Invalid value: \"" v "\": path is not absolute")
  print "F\tcriSocket\t" (v == "" ? "unix:///var/run/containerd/containerd.sock" : v)
  v = get(d, p("nodeRegistration", "imagePullPolicy"))
  if (v != "" && v !~ /^(Always|IfNotPresent|Never)$/)
    fail(3, "nodeRegistration.imagePullPolicy: Unsupported value: \"" v "\": supported values: \"Always\", \"IfNotPresent\", \"Never\"")
  labels = ""; flags = ""
  for (i = 0; (d, p("nodeRegistration", "kubeletExtraArgs", "[" i "]")) in typ; i++) {
    base = p("nodeRegistration", "kubeletExtraArgs", "[" i "]")
    argname = get(d, p(base, "name"))
    if (argname == "") fail(3, "nodeRegistration.kubeletExtraArgs[" i "].name: Required value: argument name must not be empty")
    if (argname ~ /^-/) fail(3, "nodeRegistration.kubeletExtraArgs[" i "].name: Invalid value: \"" argname "\": argument name must not start with '-'")
    if (argname == "node-labels") labels = get(d, p(base, "value"))
    if (argname == "cloud-provider") cloud = get(d, p(base, "value"))
    if (argname == "node-ip") nodeip = get(d, p(base, "value"))
    flags = flags (flags == "" ? "" : " ") "--" argname "=" get(d, p(base, "value"))
  }
  # The kubelet of v1.37 has no cloud provider built in: "external" (a cloud controller initialises the node) or none.
  if (cloud != "" && cloud != "external") print "U\tkubelet --cloud-provider=" cloud " (the v1.37 kubelet knows only \"external\")"
  if (nodeip != "" && !is_ip(nodeip)) print "U\tkubelet --node-ip=" nodeip " (only one IP address is modelled)"
  print "F\tnodeLabels\t" labels
  print "F\tkubeletFlags\t" flags
  print "F\tcloudProvider\t" cloud
  print "F\tnodeIP\t" nodeip
  if (!((d, p("nodeRegistration", "taints")) in typ) || typ[d, p("nodeRegistration", "taints")] == "null") { print "F\ttaints\tdefault"; return }
  v = ""; flag = ""
  for (i = 0; (d, p("nodeRegistration", "taints", "[" i "]")) in typ; i++) {
    base = p("nodeRegistration", "taints", "[" i "]")
    effect = get(d, p(base, "effect"))
    if (get(d, p(base, "key")) == "") fail(3, "nodeRegistration.taints[" i "].key: Required value")
    if (effect !~ /^(NoSchedule|PreferNoSchedule|NoExecute)$/)
      fail(3, "nodeRegistration.taints[" i "].effect: Unsupported value: \"" effect "\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"")
    v = v (v == "" ? "" : ",") get(d, p(base, "key")) "=" get(d, p(base, "value")) ":" effect
    # corev1.Taint.ToString(), as kubeadm writes them into the kubelet's --register-with-taints.
    flag = flag (flag == "" ? "" : ",") get(d, p(base, "key")) (get(d, p(base, "value")) == "" ? "" : "=" get(d, p(base, "value"))) ":" effect
  }
  print "F\ttaints\t" (v == "" ? "none" : v)
  print "F\ttaintsFlag\t" flag
}

function skip_phases(d,   i, v) {
  v = ""
  for (i = 0; (d, p("skipPhases", "[" i "]")) in typ; i++) v = v (v == "" ? "" : ",") get(d, p("skipPhases", "[" i "]"))
  print "F\tskipPhases\t" v
}

function timeouts_facts(d) {
  v = get(d, p("timeouts", "discovery"))
  print "F\tdiscoveryTimeout\t" (v == "" ? 300 : duration_seconds(v))
}

function init_config(d,   i, base, tok, ttl, expires, v, usage, n, u, usages, group) {
  node_registration(d)
  skip_phases(d)
  for (i = 0; (d, p("bootstrapTokens", "[" i "]")) in typ; i++) {
    base = p("bootstrapTokens", "[" i "]")
    tok = get(d, p(base, "token"))
    if (tok == "") { fail(3, "bootstrapTokens[" i "].token: Required value: the bootstrap token is invalid"); continue }
    if (tok !~ /^[a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9]\.[a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9]$/) {
      fail(1, "error unmarshaling configuration " gvk_v(gv["InitConfiguration"], "InitConfiguration") ": the bootstrap token \"" tok "\" was not of the form \"^([a-z0-9]{6})\\.([a-z0-9]{16})$\"")
      continue
    }
    ttl = get(d, p(base, "ttl")); expires = get(d, p(base, "expires"))
    if (ttl != "" && expires != "") fail(3, "bootstrapTokens[" i "].expires: Invalid value: \"" expires "\": the expires and ttl fields are mutually exclusive")
    if (ttl ~ /^-/) fail(3, "bootstrapTokens[" i "].ttl: Invalid value: \"" ttl "\": token TTL must be positive or zero")
    for (u = 0; (d, p(base, "usages", "[" u "]")) in typ; u++) {
      usage = get(d, p(base, "usages", "[" u "]"))
      if (usage != "signing" && usage != "authentication")
        fail(3, "bootstrapTokens[" i "].usages: Invalid value: \"" usage "\": invalid bootstrap token usage string: " usage ", valid usage options: signing,authentication")
    }
    for (u = 0; (d, p(base, "groups", "[" u "]")) in typ; u++) {
      group = get(d, p(base, "groups", "[" u "]"))
      if (group !~ /^system:bootstrappers:[a-z0-9:-]*[a-z0-9]$/ || length(group) > 277)
        fail(3, "bootstrapTokens[" i "].groups: Invalid value: \"" group "\": bootstrap group \"" group "\" is invalid (must match \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)")
    }
    printf "T\t%s\t%s\t%s\t%s\n", tok, (ttl == "" && expires == "" ? "24h" : ttl), expires, get(d, p(base, "description"))
  }
  v = get(d, p("localAPIEndpoint", "bindPort"))
  if (v == "" || v + 0 == 0) v = 6443
  if (v + 0 < 1 || v + 0 > 65535) fail(3, "localAPIEndpoint.bindPort: Invalid value: " v ": must be a valid port number between 1 and 65535, inclusive")
  print "F\tbindPort\t" (v + 0)
  v = get(d, p("localAPIEndpoint", "advertiseAddress"))
  if (v != "" && !is_ip(v)) fail(3, "localAPIEndpoint.advertiseAddress: Invalid value: \"" v "\": cannot parse IP address")
  print "F\tadvertiseAddress\t" v
  v = get(d, "certificateKey")
  if (v != "" && v !~ /^[0-9a-f]+$/ || (v != "" && length(v) != 64)) fail(3, "certificateKey: Invalid value: \"" v "\": certificate key must be a hex-encoded AES key of 32 bytes")
}

function cluster_config(d,   v, i, san, parts, n, j) {
  v = get(d, "clusterName"); print "F\tclusterName\t" (v == "" ? "kubernetes" : v)
  v = get(d, "kubernetesVersion")
  if (v == "" || v ~ /^(stable|latest)/) {
    print "W\tcould not fetch a Kubernetes version from the internet: unable to get URL \"https://dl.k8s.io/release/stable-1.txt\": Get \"https://dl.k8s.io/release/stable-1.txt\": dial tcp: lookup dl.k8s.io: no such host"
    print "W\tfalling back to the local client version: v1.37.0"
    v = "v1.37.0"
  } else if (v !~ /^v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$/) {
    fail(1, "version \"" v "\" doesn't match patterns for neither semantic version nor labels (stable, latest, ...)")
  } else if (!version_ok(v)) {
    fail(1, "this version of kubeadm only supports deploying clusters with the control plane version >= 1.36.0. Current version: " v)
  }
  if (v !~ /^v/) v = "v" v
  print "F\tkubernetesVersion\t" v
  v = get(d, "controlPlaneEndpoint")
  if (v != "" && v ~ /:[0-9]*$/ && v !~ /^\[/ && !is_hostport(v)) fail(3, "controlPlaneEndpoint: Invalid value: \"" v "\": port must be a valid number between 1 and 65535, inclusive")
  print "F\tcontrolPlaneEndpoint\t" v
  v = get(d, p("networking", "podSubnet"))
  n = split(v, parts, ",")
  for (j = 1; j <= n; j++) if (!is_cidr(parts[j])) fail(3, "networking.podSubnet: Invalid value: \"" v "\": couldn't parse subnet")
  print "F\tpodSubnet\t" v
  v = get(d, p("networking", "serviceSubnet"))
  if (v == "") v = "10.96.0.0/12"
  n = split(v, parts, ",")
  for (j = 1; j <= n; j++) if (!is_cidr(parts[j])) fail(3, "networking.serviceSubnet: Invalid value: \"" v "\": couldn't parse subnet")
  print "F\tserviceSubnet\t" v
  v = get(d, p("networking", "dnsDomain")); print "F\tdnsDomain\t" (v == "" ? "cluster.local" : v)
  for (i = 0; (d, p("apiServer", "certSANs", "[" i "]")) in typ; i++) {
    san = get(d, p("apiServer", "certSANs", "[" i "]"))
    if (!is_ip(san) && !is_dns1123_subdomain(san) && san !~ /^\*\.[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/)
      fail(3, "apiServer.certSANs[" i "]: Invalid value: \"" san "\": altname is not a valid IP address, DNS label or a DNS label with subdomain wildcards")
  }
  v = get(d, "encryptionAlgorithm")
  if (v != "" && v !~ /^(RSA-2048|RSA-3072|RSA-4096|ECDSA-P256)$/)
    fail(3, "encryptionAlgorithm: Unsupported value: \"" v "\": supported values: \"ECDSA-P256\", \"RSA-2048\", \"RSA-3072\", \"RSA-4096\"")
  if (has(d, p("etcd", "local")) && has(d, p("etcd", "external")))
    fail(3, "etcd: Invalid value: \"\": etcd.local and etcd.external are mutually exclusive")
  print "F\tdnsDisabled\t" (get(d, p("dns", "disabled")) ~ /^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/ ? "true" : "false")
  print "F\tproxyDisabled\t" (get(d, p("proxy", "disabled")) ~ /^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/ ? "true" : "false")
}

function kubelet_config(d,   v) {
  v = get(d, "port")
  if (v == "") v = 10250
  if (v + 0 < 1 || v + 0 > 65535) fail(1, "[kubelet] invalid configuration: port (--port) " v " must be between 1 and 65535, inclusive")
  print "F\tkubeletPort\t" (v + 0)
  v = get(d, "cgroupDriver")
  if (v != "" && v != "systemd" && v != "cgroupfs") fail(1, "[kubelet] invalid configuration: cgroupDriver \"" v "\" is not supported: use systemd or cgroupfs")
  print "F\tcgroupDriver\t" v
  v = get(d, "imageGCHighThresholdPercent")
  if (v != "" && (v + 0 < 0 || v + 0 > 100)) fail(1, "[kubelet] invalid configuration: imageGCHighThresholdPercent (--image-gc-high-threshold) " v " must be between 0 and 100, inclusive")
  v = get(d, p("userNamespaces", "idsPerPod"))
  if (v != "" && (v + 0 < 65536 || (v + 0) % 65536 != 0 || v + 0 > 4294967295))
    fail(1, "[kubelet] invalid configuration: userNamespaces.idsPerPod " v " must be a multiple of 65536, at least 65536 and at most 4294967295")
}

function proxy_config(d,   v) {
  v = get(d, "mode")
  if (v != "" && v !~ /^(iptables|ipvs|nftables)$/) fail(1, "[kube-proxy] invalid configuration: Mode: Invalid value: \"" v "\": must be iptables, ipvs or nftables")
  # A user namespace cannot write the nf_conntrack sysctls: kube-proxy crash-loops unless maxPerCore is 0.
  v = get(d, p("conntrack", "maxPerCore"))
  print "F\tproxyConntrackOK\t" (v != "" && v + 0 == 0 ? "true" : "false")
}

function join_config(d,   v, tok, i, hash, hashes, tls) {
  node_registration(d)
  skip_phases(d)
  timeouts_facts(d)
  if (has(d, "controlPlane")) { print "U\tjoining a control-plane node (JoinConfiguration.controlPlane) is not modelled"; return }
  v = get(d, "caCertPath"); print "F\tcaCertPath\t" (v == "" ? "/etc/kubernetes/pki/ca.crt" : v)
  if (v != "" && v !~ /^\//) fail(3, "caCertPath: Invalid value: \"" v "\": the ca certificate path must be an absolute path")
  if (!has(d, "discovery") || (!has(d, p("discovery", "bootstrapToken")) && !has(d, p("discovery", "file")))) {
    fail(3, "discovery: Invalid value: \"\": bootstrapToken or file must be set")
    return
  }
  if (has(d, p("discovery", "bootstrapToken")) && has(d, p("discovery", "file"))) {
    fail(3, "discovery: Invalid value: \"\": bootstrapToken and file cannot both be set")
    return
  }
  if (has(d, p("discovery", "file"))) { print "U\tfile discovery (discovery.file) is not modelled"; return }
  tok = get(d, p("discovery", "bootstrapToken", "token"))
  if (!valid_token(tok)) fail(3, "discovery.bootstrapToken.token: Invalid value: \"" tok "\": the bootstrap token is invalid")
  tls = get(d, p("discovery", "tlsBootstrapToken"))
  if (tls != "" && !valid_token(tls)) fail(3, "discovery.tlsBootstrapToken: Invalid value: \"" tls "\": the bootstrap token is invalid")
  v = get(d, p("discovery", "bootstrapToken", "apiServerEndpoint"))
  if (v == "") fail(3, "discovery.bootstrapToken.apiServerEndpoint: Required value: APIServerEndpoint is not set")
  else if (!is_hostport(v)) fail(3, "discovery.bootstrapToken.apiServerEndpoint: Invalid value: \"" v "\": address " v ": missing port in address")
  print "F\tapiServerEndpoint\t" v
  hashes = ""
  for (i = 0; (d, p("discovery", "bootstrapToken", "caCertHashes", "[" i "]")) in typ; i++) {
    hash = get(d, p("discovery", "bootstrapToken", "caCertHashes", "[" i "]"))
    if (hash !~ /^[Ss][Hh][Aa]256:/) { fail(1, "invalid discovery token CA certificate hash: unknown hash format \"" hash "\". Known format(s) are: sha256"); continue }
    v = tolower(substr(hash, 8))
    if (v !~ /^[0-9a-f]+$/ || length(v) != 64) { fail(1, "invalid discovery token CA certificate hash: expected a 32 byte SHA-256 hash, found " int(length(v) / 2) " bytes"); continue }
    hashes = hashes (hashes == "" ? "" : " ") "sha256:" v
  }
  v = get(d, p("discovery", "bootstrapToken", "unsafeSkipCAVerification"))
  v = v ~ /^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$/ ? "true" : "false"
  if (hashes == "" && v != "true")
    fail(3, "discovery.bootstrapToken: Invalid value: \"\": using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue")
  print "F\tcaCertHashes\t" hashes
  print "F\tunsafeSkipCAVerification\t" v
  print "F\ttoken\t" tok
  print "F\ttlsBootstrapToken\t" (tls == "" ? tok : tls)
}

function valid_token(t) {
  return t ~ /^[a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9]\.[a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9][a-z0-9]$/
}

END {
  if (errors) { report(); exit }
  if (ndocs == 0) { fail(1, mode == "init" ? "no InitConfiguration or ClusterConfiguration kind was found in the configuration file" : "no JoinConfiguration kind was found in the YAML file"); report(); exit }
  # The GroupVersionKind of every document: both are mandatory, and none may repeat.
  for (d = 1; d <= ndocs; d++) {
    if (typ[d, ""] != "map") { fail(1, "couldn't get version/kind; json parse error: json: cannot unmarshal " (typ[d, ""] == "seq" ? "array" : "string") " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"); report(); exit }
    dg[d] = get(d, "apiVersion"); dk[d] = get(d, "kind")
    if (dg[d] == "" || dk[d] == "") { fail(1, "invalid configuration for GroupVersionKind " gvk_plus(dg[d], dk[d]) ": kind and apiVersion is mandatory information that must be specified"); report(); exit }
    key = dg[d] ", Kind=" dk[d]
    if (key in seen_gvk) { fail(1, "invalid configuration: GroupVersionKind " gvk_plus(dg[d], dk[d]) " is specified twice in YAML file"); report(); exit }
    seen_gvk[key] = d
    order[d] = d
  }
  # kubeadm decodes the documents sorted by GroupVersionKind.
  for (i = 1; i <= ndocs; i++) for (j = i + 1; j <= ndocs; j++)
    if ((dg[order[j]] ", Kind=" dk[order[j]]) < (dg[order[i]] ", Kind=" dk[order[i]])) { t = order[i]; order[i] = order[j]; order[j] = t }
  for (i = 1; i <= ndocs && !errors; i++) {
    d = order[i]; g = dg[d]; k = dk[d]
    group = g; sub(/\/.*/, "", group)
    if (g ~ /^kubeadm\.k8s\.io\/(v1alpha[123]|v1beta[123])$/) {
      old["kubeadm.k8s.io/v1alpha1"] = "v1.11"; old["kubeadm.k8s.io/v1alpha2"] = "v1.12"; old["kubeadm.k8s.io/v1alpha3"] = "v1.14"
      old["kubeadm.k8s.io/v1beta1"] = "v1.15"; old["kubeadm.k8s.io/v1beta2"] = "v1.22"; old["kubeadm.k8s.io/v1beta3"] = "v1.36"
      fail(1, "your configuration file uses an old API spec: \"" g "\" (kind: \"" k "\"). Please use kubeadm " old[g] " instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.")
      break
    }
    if (g == "kubeadm.k8s.io/v1") { fail(1, "experimental API spec: \"" g "\" (kind: \"" k "\") is not allowed. You can use the --allow-experimental-api flag if the command supports it."); break }
    if ((group == "kubelet.config.k8s.io" || group == "kubeproxy.config.k8s.io") && g != gv[k]) {
      fail(1, "unsupported apiVersion \"" g "\", you may have to do manual conversion to \"" (group == "kubelet.config.k8s.io" ? gv["KubeletConfiguration"] : gv["KubeProxyConfiguration"]) "\" and run kubeadm again")
      break
    }
    if (!(k in gv) || gv[k] != g || (mode == "join" && k != "JoinConfiguration") || (mode == "init" && k == "JoinConfiguration")) {
      # Real kubeadm logs "[config] WARNING: Ignored configuration document with GroupVersionKind ..." and goes on.
      fail(1, "[config] Ignored configuration document with GroupVersionKind " g ", Kind=" k " (the stand-in refuses it: kubeadm " mode " would not use it)")
      break
    }
    check_doc(d, k, g)
    if (!errors) {
      if (k == "InitConfiguration") init_doc = d
      if (k == "ClusterConfiguration") cluster_doc = d
      if (k == "JoinConfiguration") join_doc = d
      if (k == "KubeletConfiguration") kubelet_doc = d
      if (k == "KubeProxyConfiguration") proxy_doc = d
    }
  }
  if (errors) { report(); exit }
  if (mode == "init") {
    if (!init_doc && !cluster_doc) { fail(1, "no InitConfiguration or ClusterConfiguration kind was found in the configuration file"); report(); exit }
    # Defaults come from an empty document: index 0 holds nothing.
    init_config(init_doc + 0)
    if (!init_doc) print "T\t" "" "\t24h\t\t"
    cluster_config(cluster_doc + 0)
    kubelet_config(kubelet_doc + 0)
    proxy_config(proxy_doc + 0)
  } else {
    if (!join_doc) { fail(1, "no JoinConfiguration kind was found in the YAML file"); report(); exit }
    join_config(join_doc)
  }
  report()
}

function report(   i) {
  if (!errors) return
  if (first_code == 3) {
    # A validation aggregate: every error, in brackets when there are several.
    if (errors == 1) printf "X\t3\t%s\n", errtext[1]
    else { printf "X\t3\t[%s", errtext[1]; for (i = 2; i <= errors; i++) printf ", %s", errtext[i]; printf "]\n" }
    return
  }
  printf "X\t%d\t%s\n", first_code, errtext[1]
}
