# Flattens a YAML stream (the block and flow styles Kubernetes manifests and kubeadm configs use) into one record
# per node, for the stand-in kubeadm and kubectl to check. Output, tab-separated:
#   D <n>                          document n (1-based) starts; empty documents are skipped
#   N <path> <type> <value>        a node. path: keys and [index]es joined by \037 ("" for the root);
#                                  type: map | seq (a collection starts), plain (unquoted scalar), str (quoted or block
#                                  scalar), null (no value, ~, null); value: \ newline and tab escaped as \\ \n \t
#   E <line> <message>             the stream is not YAML the stand-in reads; nothing follows
# What it does not read (anchors, aliases, tags, complex keys, merge keys) is an E record, never a guess.
BEGIN {
  SEP = "\037"
  doc = 0
  started = 0
  reset_doc()
}

function fail(message) {
  if (failed) return
  printf "E\t%d\t%s\n", NR, message
  failed = 1
  exit 1
}

function esc(s) {
  gsub(/\\/, "\\\\", s)
  gsub(/\n/, "\\n", s)
  gsub(/\t/, "\\t", s)
  return s
}

function join(path, seg) { return path == "" ? seg : path SEP seg }

function reset_doc() {
  sp = 0
  pending = ""
  haspending = 0
  buf = 0
  block = 0
  quoting = 0
  flowing = 0
  rooted = 0
  delete seen
}

function begin_doc() {
  if (!started) { doc++; started = 1; printf "D\t%d\n", doc }
}

function emit(path, type, value) {
  begin_doc()
  if (type == "map" || type == "seq") {
    if ((path, "node") in seen) fail("mapping key \"" display(path) "\" already defined")
    seen[path, "node"] = 1
  }
  printf "N\t%s\t%s\t%s\n", path, type, esc(value)
}

function display(path,   out, n, i, segs) {
  n = split(path, segs, SEP)
  out = ""
  for (i = 1; i <= n; i++) out = (segs[i] ~ /^\[[0-9]+\]$/ || out == "") ? out segs[i] : out "." segs[i]
  return out
}

# --- scalars -------------------------------------------------------------------------------------------------------

function plain_type(v) {
  if (v == "" || v == "~" || v == "null" || v == "Null" || v == "NULL") return "null"
  return "plain"
}

# Ends a pending multi-line plain scalar.
function flush() {
  if (buf) { emit(bufpath, plain_type(bufval), bufval); buf = 0 }
}

# Index of the closing quote of a quoted scalar that starts at s[1], or 0.
function close_quote(s, q,   i, c, n) {
  n = length(s)
  for (i = 2; i <= n; i++) {
    c = substr(s, i, 1)
    if (q == "\"" && c == "\\") { i++; continue }
    if (c == q) {
      if (q == "'" && substr(s, i + 1, 1) == "'") { i++; continue }
      return i
    }
  }
  return 0
}

function unquote(s, q,   out, i, c, n, d) {
  s = substr(s, 2, length(s) - 2)
  if (q == "'") { gsub(/''/, "'", s); return s }
  out = ""
  n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c != "\\") { out = out c; continue }
    d = substr(s, ++i, 1)
    if (d == "n") out = out "\n"
    else if (d == "t") out = out "\t"
    else if (d == "\"" || d == "\\" || d == "/") out = out d
    else if (d == " ") out = out " "
    else out = out "\\" d
  }
  return out
}

# Strips a trailing comment (a # after a blank, outside quotes and brackets do not matter for #).
function strip_comment(s,   i, c, n, q) {
  n = length(s)
  q = ""
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (q != "") {
      if (q == "\"" && c == "\\") { i++; continue }
      if (c == q) q = ""
      continue
    }
    if ((c == "\"" || c == "'") && (i == 1 || substr(s, i - 1, 1) ~ /[ \t\[{,:-]/)) { q = c; continue }
    if (c == "#" && (i == 1 || substr(s, i - 1, 1) ~ /[ \t]/)) return substr(s, 1, i - 1)
  }
  return s
}

function rtrim(s) { sub(/[ \t]+$/, "", s); return s }

# A value after "key:" or "- ": starts the right kind of node for path. owner: the indent lines of a multi-line
# plain value must exceed.
function value(path, v, owner, indent,   q, e, rest) {
  v = rtrim(v)
  if (v ~ /^[&*!]/ || v ~ /^<</) fail("anchors, aliases and tags are not read by the stand-in: " v)
  if (v ~ /^[|>]/) {
    if (v !~ /^[|>][-+]?[1-9]?$/ && v !~ /^[|>][1-9][-+]$/) fail("bad block scalar header: " v)
    block = 1; blockpath = path; blockowner = owner; blockindent = 0; blkn = 0
    blockfold = (substr(v, 1, 1) == ">"); blockchomp = (v ~ /-/) ? "strip" : (v ~ /\+/) ? "keep" : "clip"
    return
  }
  if (v ~ /^["']/) {
    q = substr(v, 1, 1)
    e = close_quote(v, q)
    if (e == 0) { quoting = 1; quotepath = path; quotechar = q; quotetext = v; return }
    rest = rtrim(substr(v, e + 1))
    if (rest != "") fail("did not find expected key after quoted scalar: " v)
    emit(path, "str", unquote(substr(v, 1, e), q))
    return
  }
  if (v ~ /^[\[{]/) { flowing = 1; flowpath = path; flowtext = v; flow_check(); return }
  buf = 1; bufpath = path; bufval = v; bufowner = owner
}

# --- flow collections ----------------------------------------------------------------------------------------------

function flow_balanced(s,   i, c, n, depth, q) {
  depth = 0; q = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (q != "") { if (q == "\"" && c == "\\") { i++; continue } if (c == q) q = ""; continue }
    if (c == "\"" || c == "'") q = c
    else if (c == "[" || c == "{") depth++
    else if (c == "]" || c == "}") depth--
  }
  return depth <= 0 && q == ""
}

function flow_check() {
  if (!flow_balanced(flowtext)) return
  flowing = 0
  ftext = flowtext; fpos = 1; flen = length(ftext)
  fvalue(flowpath)
  fskip()
  if (fpos <= flen) fail("unexpected characters after a flow collection: " substr(ftext, fpos))
}

function fskip() { while (fpos <= flen && substr(ftext, fpos, 1) ~ /[ \t]/) fpos++ }

function fscalar(stop,   c, start, e, s, q) {
  fskip()
  c = substr(ftext, fpos, 1)
  if (c == "\"" || c == "'") {
    e = close_quote(substr(ftext, fpos), c)
    if (e == 0) fail("unterminated quoted scalar in a flow collection")
    s = substr(ftext, fpos, e); fpos += e
    fscalar_type = "str"
    return unquote(s, c)
  }
  start = fpos
  while (fpos <= flen) {
    c = substr(ftext, fpos, 1)
    if (index(stop, c)) break
    if (c == ":" && (fpos == flen || substr(ftext, fpos + 1, 1) ~ /[ \t,\]}]/)) break
    fpos++
  }
  s = rtrim(substr(ftext, start, fpos - start))
  if (s ~ /^[&*!]/) fail("anchors, aliases and tags are not read by the stand-in: " s)
  fscalar_type = plain_type(s)
  return s
}

function fvalue(path,   c, i, key, v) {
  fskip()
  c = substr(ftext, fpos, 1)
  if (c == "[") {
    fpos++; emit(path, "seq", ""); i = 0
    fskip()
    if (substr(ftext, fpos, 1) == "]") { fpos++; return }
    while (1) {
      fskip()
      if (substr(ftext, fpos, 1) ~ /[\[{]/) fvalue(join(path, "[" i "]"))
      else {
        v = fscalar(",]")
        fskip()
        if (substr(ftext, fpos, 1) == ":") fail("single-pair mappings in flow sequences are not read by the stand-in")
        emit(join(path, "[" i "]"), fscalar_type, v)
      }
      i++
      fskip(); c = substr(ftext, fpos, 1)
      if (c == ",") { fpos++; fskip(); if (substr(ftext, fpos, 1) == "]") { fpos++; return } continue }
      if (c == "]") { fpos++; return }
      fail("did not find expected ',' or ']' in a flow sequence")
    }
  }
  if (c == "{") {
    fpos++; emit(path, "map", "")
    fskip()
    if (substr(ftext, fpos, 1) == "}") { fpos++; return }
    while (1) {
      key = fscalar(",}:")
      fskip()
      if (substr(ftext, fpos, 1) != ":") fail("did not find expected ':' in a flow mapping")
      fpos++
      key = join(path, key)
      if ((key, "key") in seen) fail("mapping key \"" display(key) "\" already defined")
      seen[key, "key"] = 1
      fskip()
      c = substr(ftext, fpos, 1)
      if (c == "," || c == "}") emit(key, "null", "")
      else if (c ~ /[\[{]/) fvalue(key)
      else { v = fscalar(",}"); emit(key, fscalar_type, v) }
      fskip(); c = substr(ftext, fpos, 1)
      if (c == ",") { fpos++; fskip(); if (substr(ftext, fpos, 1) == "}") { fpos++; return } continue }
      if (c == "}") { fpos++; return }
      fail("did not find expected ',' or '}' in a flow mapping")
    }
  }
  v = fscalar(",]}")
  emit(path, fscalar_type, v)
}

# --- block structure -----------------------------------------------------------------------------------------------

function push(indent, type, path) {
  sp++; st_ind[sp] = indent; st_type[sp] = type; st_path[sp] = path; st_count[sp] = 0
  emit(path, type, "")
}

# Makes the top of the stack a collection of this type at this indent, opening one for a pending key.
function attach(indent, type) {
  if (haspending) {
    haspending = 0
    if (indent > pendingindent || (indent == pendingindent && type == "seq" && !pendingseq)) {
      push(indent, type, pending)
      return
    }
    emit(pending, "null", "")
  }
  while (sp > 0 && st_ind[sp] > indent) sp--
  if (sp > 0 && st_ind[sp] == indent && st_type[sp] != type) {
    # A sequence written at its key's indent ends where the next key of that mapping starts.
    if (st_type[sp] == "seq" && type == "map" && sp > 1 && st_ind[sp - 1] == indent && st_type[sp - 1] == "map") sp--
    else fail("did not find expected " (type == "seq" ? "key" : "'-' indicator"))
  }
  if (sp == 0) {
    if (rooted) fail("did not find expected <document start>")
    rooted = 1
    push(indent, type, "")
    return
  }
  if (st_ind[sp] != indent) fail("mapping values are not allowed in this context")
}

# Splits "key: value" into KEY and VAL; 0 when the text is not a mapping entry.
function split_key(text,   q, e, i, c, n) {
  if (text ~ /^["']/) {
    q = substr(text, 1, 1)
    e = close_quote(text, q)
    if (e == 0) return 0
    if (substr(text, e + 1, 1) != ":" || (e + 1 < length(text) && substr(text, e + 2, 1) !~ /[ \t]/)) return 0
    KEY = unquote(substr(text, 1, e), q)
    VAL = substr(text, e + 2)
    sub(/^[ \t]+/, "", VAL)
    return 1
  }
  if (text ~ /^[\[{]/) return 0
  n = length(text)
  for (i = 1; i <= n; i++) {
    c = substr(text, i, 1)
    if (c == ":" && (i == n || substr(text, i + 1, 1) ~ /[ \t]/)) {
      KEY = rtrim(substr(text, 1, i - 1))
      VAL = substr(text, i + 1)
      sub(/^[ \t]+/, "", VAL)
      return 1
    }
  }
  return 0
}

function entry(indent, text,   path) {
  if (text ~ /^\? / || text == "?") fail("complex mapping keys are not read by the stand-in")
  if (KEY ~ /^[&*!]/ || KEY == "<<") fail("anchors, aliases, tags and merge keys are not read by the stand-in: " KEY)
  attach(indent, "map")
  path = join(st_path[sp], KEY)
  if ((path, "key") in seen) fail("mapping key \"" display(path) "\" already defined")
  seen[path, "key"] = 1
  if (VAL == "") { haspending = 1; pending = path; pendingindent = indent; pendingseq = 0; return }
  value(path, VAL, indent, indent)
}

function line(indent, text,   path, rest, restindent) {
  if (text == "-" || substr(text, 1, 2) == "- " || substr(text, 1, 2) == "-\t") {
    attach(indent, "seq")
    path = join(st_path[sp], "[" st_count[sp] "]")
    st_count[sp]++
    rest = substr(text, 2)
    restindent = indent + 1
    while (substr(rest, 1, 1) == " ") { rest = substr(rest, 2); restindent++ }
    if (rest == "") { haspending = 1; pending = path; pendingindent = indent; pendingseq = 1; return }
    if (substr(rest, 1, 1) == "-" && (rest == "-" || substr(rest, 2, 1) == " ")) {
      haspending = 1; pending = path; pendingindent = indent; pendingseq = 1
      line(restindent, rest)
      return
    }
    if (split_key(rest)) {
      push(restindent, "map", path)
      entry(restindent, rest)
      return
    }
    value(path, rest, indent, indent)
    return
  }
  if (split_key(text)) { entry(indent, text); return }
  if (haspending && indent > pendingindent) {
    haspending = 0
    value(pending, text, pendingindent, indent)
    return
  }
  if (sp == 0 && !rooted) fail("a document that is a lone scalar is not read by the stand-in")
  fail("could not find expected ':'")
}

function end_block(   out, n, i, last) {
  block = 0
  last = blkn
  while (last > 0 && blk[last] == "") last--
  out = ""
  for (i = 1; i <= last; i++) {
    if (i == 1) out = blk[i]
    else if (blockfold && blk[i] != "" && blk[i - 1] != "" && blk[i] !~ /^[ \t]/ && blk[i - 1] !~ /^[ \t]/) out = out " " blk[i]
    else out = out "\n" blk[i]
  }
  if (blockchomp == "clip" && last > 0) out = out "\n"
  if (blockchomp == "keep") for (i = last; i <= blkn; i++) out = out "\n"
  emit(blockpath, "str", out)
}

function end_doc() {
  if (block) end_block()
  if (quoting) fail("found unexpected end of stream inside a quoted scalar")
  if (flowing) fail("did not find expected ',' or ']' before the end of the document")
  flush()
  if (haspending) { emit(pending, "null", ""); haspending = 0 }
  started = 0
  reset_doc()
}

{
  raw = $0
  sub(/\r$/, "", raw)
  if (failed) exit 1

  if (block) {
    if (raw ~ /^ *$/) { blk[++blkn] = ""; next }
    match(raw, /^ */)
    if (blockindent == 0 && RLENGTH > blockowner) blockindent = RLENGTH
    if (blockindent > 0 && RLENGTH >= blockindent) { blk[++blkn] = substr(raw, blockindent + 1); next }
    end_block()
  }

  if (quoting) {
    t = raw; sub(/^[ \t]+/, "", t)
    quotetext = quotetext (t == "" ? "\n" : (quotetext ~ /\n$/ ? "" : " ") t)
    e = close_quote(quotetext, quotechar)
    if (e == 0) next
    quoting = 0
    if (rtrim(strip_comment(substr(quotetext, e + 1))) != "") fail("did not find expected key after a quoted scalar")
    emit(quotepath, "str", unquote(substr(quotetext, 1, e), quotechar))
    next
  }

  if (raw ~ /^---([ \t]|$)/ || raw ~ /^\.\.\.[ \t]*$/) {
    end_doc()
    rest = raw; sub(/^(---|\.\.\.)[ \t]*/, "", rest); rest = rtrim(strip_comment(rest))
    if (rest != "") fail("content after a document marker is not read by the stand-in: " rest)
    next
  }
  if (raw ~ /^%/ && sp == 0 && !rooted) next

  if (flowing) {
    t = strip_comment(raw); sub(/^[ \t]+/, "", t)
    flowtext = flowtext " " rtrim(t)
    flow_check()
    next
  }

  if (raw ~ /^[ \t]*(#|$)/) { if (buf && raw ~ /^[ \t]*#/) flush(); next }
  if (raw ~ /^ *\t/) fail("found a tab character that violates indentation")
  match(raw, /^ */)
  indent = RLENGTH
  text = rtrim(strip_comment(substr(raw, indent + 1)))
  if (text == "") { flush(); next }

  if (buf) {
    if (indent > bufowner && text !~ /^- / && !split_key(text)) { bufval = bufval " " text; next }
    if (indent > bufowner && split_key(text)) fail("mapping values are not allowed in this context")
    flush()
  }
  line(indent, text)
}

END {
  if (failed) exit 1
  end_doc()
}
