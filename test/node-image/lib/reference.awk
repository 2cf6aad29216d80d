# Image references as github.com/distribution/reference reads them (containerd and the CRI use it), one per line:
#   mode=docker (ParseDockerRef: what ctr import names an image and the CRI looks a name up by): busybox ->
#     docker.io/library/busybox:latest; a reference with a tag and a digest keeps the digest only
#   mode=named (ParseNormalizedNamed: how the CRI shows an image's names): no :latest added; prints
#     "<rank><TAB><reference>" with rank T (tagged), D (digested, with or without a tag) or N (neither)
# Prints the reference, or "ERROR<TAB><the package's error>".
BEGIN {
  if (mode == "") mode = "docker"
  COMPONENT = "^[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*$"
  DOMAIN_PART = "([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
  DOMAIN = "^" DOMAIN_PART "(\\." DOMAIN_PART ")*(:[0-9]+)?$"
  TAG = "^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
  DIGEST = "^[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f][0-9A-Fa-f]*$"
}

function fail(message) { print "ERROR\t" message }

{
  ref = $0
  if (ref == "") { fail("invalid reference format"); next }
  if (ref ~ /^[0-9a-f]+$/ && length(ref) == 64) {
    fail("invalid repository name (" ref "), cannot specify 64-byte hexadecimal strings")
    next
  }
  name = ref
  digest = ""
  at = index(name, "@")
  if (at) { digest = substr(name, at + 1); name = substr(name, 1, at - 1) }
  if (digest != "" && (digest !~ DIGEST || length(digest) - index(digest, ":") < 32)) { fail("invalid reference format"); next }
  tag = ""
  # The tag follows the last colon with no slash after it (a colon before a slash is the domain's port).
  colon = 0
  for (i = length(name); i > 0; i--) {
    c = substr(name, i, 1)
    if (c == "/") break
    if (c == ":") { colon = i; break }
  }
  if (colon) { tag = substr(name, colon + 1); name = substr(name, 1, colon - 1) }
  if (colon && (tag !~ TAG || length(tag) > 128)) { fail("invalid reference format"); next }
  if (name == "") { fail("invalid reference format"); next }
  slash = index(name, "/")
  first = slash ? substr(name, 1, slash - 1) : ""
  if (!slash || (first !~ /[.:]/ && first != "localhost" && tolower(first) == first)) {
    domain = "docker.io"
    rest = name
  } else {
    domain = first
    rest = substr(name, slash + 1)
  }
  if (domain == "index.docker.io") domain = "docker.io"
  if (domain == "docker.io" && index(rest, "/") == 0) rest = "library/" rest
  if (rest != tolower(rest)) { fail("invalid reference format: repository name (" rest ") must be lowercase"); next }
  if (domain !~ DOMAIN) { fail("invalid reference format"); next }
  n = split(rest, parts, "/")
  ok = 1
  for (i = 1; i <= n; i++) if (parts[i] !~ COMPONENT) ok = 0
  if (!ok) { fail("invalid reference format"); next }
  full = domain "/" rest
  if (length(full) > 255) { fail("repository name must not be more than 255 characters"); next }
  if (mode == "docker") {
    if (digest != "") print full "@" digest
    else print full ":" (tag == "" ? "latest" : tag)
    next
  }
  out = full (tag == "" ? "" : ":" tag) (digest == "" ? "" : "@" digest)
  print (digest != "" ? "D" : tag != "" ? "T" : "N") "\t" out
}
