# Prints json.awk's N records (its flattened form, paths joined by \037) as indented JSON, as Go's json.Indent(.., "",
# "  ") lays out what encoding/json wrote: strings escaped as json.Marshal does (<, > and & as \u003c, \u003e, \u0026).
# sort=1: every object's keys in byte order, as json.Marshal writes a map (crictl prints a status so); else in the
# order the records come. A path that comes again replaces its value.
BEGIN {
  FS = "\t"
  SEP = "\037"
  for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i
}

$1 == "N" {
  path = $2
  if (!(path in type) && path != "") {
    parent = path
    sub("\037[^\037]*$", "", parent)
    if (parent == path) parent = ""
    key = parent == "" ? path : substr(path, length(parent) + 2)
    kids[parent]++
    kid[parent, kids[parent]] = path
    keyof[path] = key
  }
  type[path] = $3
  value[path] = $4
}

# json.awk's escaping (\\ \n \t) undone.
function unesc(s,   out, i, c) {
  out = ""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "\\") { c = substr(s, ++i, 1); c = c == "n" ? "\n" : c == "t" ? "\t" : c }
    out = out c
  }
  return out
}

function quote(s,   out, i, c, o) {
  out = "\""
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    o = ord[c]
    if (c == "\"") out = out "\\\""
    else if (c == "\\") out = out "\\\\"
    else if (c == "\n") out = out "\\n"
    else if (c == "\r") out = out "\\r"
    else if (c == "\t") out = out "\\t"
    else if (o < 32 || c == "<" || c == ">" || c == "&") out = out sprintf("\\u%04x", o)
    else out = out c
  }
  return out "\""
}

function emit(path, indent,   t, n, i, j, order, tmp, opening, closing) {
  t = type[path]
  if (t == "string") { printf "%s", quote(unesc(value[path])); return }
  if (t != "object" && t != "array") { printf "%s", value[path]; return }
  opening = t == "object" ? "{" : "["
  closing = t == "object" ? "}" : "]"
  n = kids[path] + 0
  if (n == 0) { printf "%s%s", opening, closing; return }
  for (i = 1; i <= n; i++) order[i] = kid[path, i]
  if (t == "object" && sort) {
    for (i = 2; i <= n; i++) {
      tmp = order[i]
      for (j = i - 1; j >= 1 && (keyof[order[j]] "") > (keyof[tmp] ""); j--) order[j + 1] = order[j]
      order[j + 1] = tmp
    }
  }
  printf "%s\n", opening
  for (i = 1; i <= n; i++) {
    printf "%s  ", indent
    if (t == "object") printf "%s: ", quote(keyof[order[i]])
    emit(order[i], indent "  ")
    printf "%s\n", i < n ? "," : ""
  }
  printf "%s%s", indent, closing
}

END {
  if (!("" in type)) exit 1
  emit("", "")
  printf "\n"
}
