# Reads `CRD <group> <kind> <scope>` lines (custom resources the cluster knows) and then a flattened manifest
# (yaml.awk's output) and prints, per document in order:
#   OBJ <resource> <namespace dir> <name> <namespace> <apiVersion> <kind> <doc file>
#   DS <namespace> <name> <template labels> <container names> <images> <tolerations> <hostNetwork>
#                              tolerations: operator|key|value|effect, joined by ";"
#   ERR <message>              as kubectl prints it, \036 for a line break (kubectl applies the other objects, exits 1)
# Each document's records go to <dir>/doc.N, whose checksum tells an unchanged object from a changed one.
BEGIN {
  FS = "\t"
  SEP = "\037"
  # apiVersion and kind of the built-in API, with N for namespaced and C for cluster-scoped kinds.
  known("v1", "N", "Pod Service ConfigMap Secret ServiceAccount Endpoints PersistentVolumeClaim LimitRange ResourceQuota Event PodTemplate ReplicationController")
  known("v1", "C", "Namespace Node PersistentVolume")
  known("apps/v1", "N", "Deployment DaemonSet StatefulSet ReplicaSet ControllerRevision")
  known("batch/v1", "N", "Job CronJob")
  known("rbac.authorization.k8s.io/v1", "N", "Role RoleBinding")
  known("rbac.authorization.k8s.io/v1", "C", "ClusterRole ClusterRoleBinding")
  known("apiextensions.k8s.io/v1", "C", "CustomResourceDefinition")
  known("admissionregistration.k8s.io/v1", "C", "MutatingWebhookConfiguration ValidatingWebhookConfiguration ValidatingAdmissionPolicy ValidatingAdmissionPolicyBinding")
  known("apiregistration.k8s.io/v1", "C", "APIService")
  known("policy/v1", "N", "PodDisruptionBudget")
  known("networking.k8s.io/v1", "N", "NetworkPolicy Ingress")
  known("networking.k8s.io/v1", "C", "IngressClass")
  known("storage.k8s.io/v1", "C", "StorageClass CSIDriver CSINode VolumeAttachment")
  known("scheduling.k8s.io/v1", "C", "PriorityClass")
  known("node.k8s.io/v1", "C", "RuntimeClass")
  known("coordination.k8s.io/v1", "N", "Lease")
  known("discovery.k8s.io/v1", "N", "EndpointSlice")
  known("autoscaling/v1", "N", "HorizontalPodAutoscaler")
  known("autoscaling/v2", "N", "HorizontalPodAutoscaler")
  known("certificates.k8s.io/v1", "C", "CertificateSigningRequest")
  known("flowcontrol.apiserver.k8s.io/v1", "C", "FlowSchema PriorityLevelConfiguration")
  ndocs = 0
}

function known(gv, scope, kinds,   list, n, i) {
  n = split(kinds, list, " ")
  for (i = 1; i <= n; i++) kinds_scope[gv, list[i]] = scope
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

$1 == "CRD" { kinds_scope["crd:" $2, $3] = ($4 == "Cluster" ? "C" : "N"); next }
$1 == "E" { print "ERR\terror: error parsing STDIN: error converting YAML to JSON: yaml: line " $2 ": " $3; failed = 1; exit }
$1 == "D" { if (ndocs) finish(ndocs); ndocs++; delete v; delete t; file = dir "/doc." ndocs; next }
$1 == "N" { print $0 > file; v[$2] = unesc($4); t[$2] = $3; next }

function get(path) { return (path in t) && t[path] != "null" ? v[path] : "" }

function scope_of(apiVersion, kind,   group) {
  if ((apiVersion, kind) in kinds_scope) return kinds_scope[apiVersion, kind]
  group = apiVersion
  if (!index(group, "/")) return ""
  sub(/\/.*/, "", group)
  if (("crd:" group, kind) in kinds_scope) return kinds_scope["crd:" group, kind]
  return ""
}

# The API server's ValidateTolerations for a pod template's tolerations; sets TOLS (the DS record's field) and
# returns the field errors, \036-separated.
function tolerations(prefix,   i, base, key, value, effect, op, errs, at) {
  TOLS = ""; errs = ""
  for (i = 0; (prefix "[" i "]") in t; i++) {
    base = prefix "[" i "]" SEP
    key = get(base "key"); value = get(base "value"); effect = get(base "effect"); op = get(base "operator")
    at = "spec.template.spec.tolerations[" i "]"
    if (key != "" && key !~ /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/)
      errs = errs "\036" at ".key: Invalid value: \"" key "\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    if (key == "" && op != "Exists")
      errs = errs "\036" at ".operator: Invalid value: \"" op "\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""
    if (get(base "tolerationSeconds") != "" && effect != "NoExecute")
      errs = errs "\036" at ".effect: Invalid value: \"" effect "\": effect must be 'NoExecute' when `tolerationSeconds` is set"
    if (op == "Exists" && value != "")
      errs = errs "\036" at ".operator: Invalid value: \"" value "\": value must be empty when `operator` is 'Exists'"
    else if (op != "" && op != "Equal" && op != "Exists")
      errs = errs "\036" at ".operator: Unsupported value: \"" op "\": supported values: \"Equal\", \"Exists\""
    if (effect != "" && effect !~ /^(NoSchedule|PreferNoSchedule|NoExecute)$/)
      errs = errs "\036" at ".effect: Unsupported value: \"" effect "\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""
    TOLS = TOLS (i ? ";" : "") (op == "" ? "Equal" : op) "|" key "|" value "|" effect
  }
  return substr(errs, 2)
}

function finish(d,   apiVersion, kind, name, ns, scope, group, resource, missing, labels, names, images, i, k, base, errs, n, parts) {
  close(file)
  if (t[""] != "map") { print "ERR\terror: error validating \"STDIN\": error validating data: invalid object to validate"; return }
  apiVersion = get("apiVersion"); kind = get("kind")
  missing = ""
  if (apiVersion == "") missing = "apiVersion not set"
  if (kind == "") missing = missing (missing == "" ? "" : ", ") "kind not set"
  if (missing != "") {
    if (index(missing, ",")) missing = "[" missing "]"
    print "ERR\terror: error validating \"STDIN\": error validating data: " missing "; if you choose to ignore these errors, turn validation off with --validate=false"
    return
  }
  if (kind == "List" || kind ~ /List$/) { print "UNEXPECTED\tkubectl apply of a " kind; return }
  name = get("metadata" SEP "name"); ns = get("metadata" SEP "namespace")
  scope = scope_of(apiVersion, kind)
  if (scope == "") {
    print "ERR\terror: resource mapping not found for name: \"" name "\" namespace: \"" ns "\" from \"STDIN\": no matches for kind \"" kind "\" in version \"" apiVersion "\"\036ensure CRDs are installed first"
    return
  }
  if (scope == "C") ns = ""
  else if (ns == "") ns = "default"
  group = index(apiVersion, "/") ? apiVersion : ""
  sub(/\/.*/, "", group)
  resource = tolower(kind) (group == "" ? "" : "." group)
  if (name == "") {
    print "ERR\terror: error when retrieving current configuration of:\036Resource: \"" resource "\", GroupVersionKind: \"" apiVersion ", Kind=" kind "\"\036Name: \"\", Namespace: \"" ns "\"\036from server for: \"STDIN\": resource name may not be empty"
    return
  }
  if (name !~ /^[a-z0-9:]([-a-z0-9.:]*[a-z0-9])?$/ || length(name) > 253) {
    print "ERR\tThe " kind " \"" name "\" is invalid: metadata.name: Invalid value: \"" name "\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    return
  }
  if (kind == "DaemonSet" && apiVersion == "apps/v1") {
    errs = tolerations("spec" SEP "template" SEP "spec" SEP "tolerations" SEP)
    if (errs != "") {
      # kubectl's MultilineError of the API server's Invalid status.
      n = split(errs, parts, "\036")
      if (n == 1) print "ERR\tThe DaemonSet \"" name "\" is invalid: " errs
      else { gsub(/\036/, "\036* ", errs); print "ERR\tThe DaemonSet \"" name "\" is invalid: \036* " errs }
      return
    }
  }
  printf "OBJ\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", resource, (ns == "" ? "_" : ns), name, ns, apiVersion, kind, dir "/doc." d
  if (kind == "CustomResourceDefinition") {
    printf "CRDDEF\t%s\t%s\t%s\n", get("spec" SEP "group"), get("spec" SEP "names" SEP "kind"), get("spec" SEP "scope")
  }
  if (kind == "DaemonSet" && apiVersion == "apps/v1") {
    labels = ""
    for (k in t) {
      base = "spec" SEP "template" SEP "metadata" SEP "labels" SEP
      if (index(k, base) == 1 && t[k] != "map") labels = labels (labels == "" ? "" : ",") substr(k, length(base) + 1) "=" v[k]
    }
    names = ""; images = ""
    for (i = 0; ("spec" SEP "template" SEP "spec" SEP "containers" SEP "[" i "]") in t; i++) {
      base = "spec" SEP "template" SEP "spec" SEP "containers" SEP "[" i "]" SEP
      names = names (i ? "," : "") get(base "name")
      images = images (i ? "," : "") get(base "image")
    }
    tolerations("spec" SEP "template" SEP "spec" SEP "tolerations" SEP)
    printf "DS\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ns, name, labels, names, images, TOLS, (get("spec" SEP "template" SEP "spec" SEP "hostNetwork") ~ /^(true|True|TRUE|yes|on)$/ ? "true" : "false")
  }
}

END {
  if (failed) exit
  if (ndocs) finish(ndocs)
  print "DOCS\t" ndocs
}
