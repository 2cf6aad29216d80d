# Reads one JSON text as Go's encoding/json does (the API server decodes a patch with it) and flattens it, like
# yaml.awk, into tab-separated records:
#   N <path> <type> <value>   path: keys and [index]es joined by \037 ("" for the root); type: object | array |
#                             string | number | true | false | null; value: a string's decoded text (\ newline and
#                             tab escaped as \\ \n \t), a number's literal
#   D <path>                  a key that repeats in its object (Go keeps the last; the stand-in's callers refuse it)
#   E <message>               not JSON: encoding/json's SyntaxError text ("invalid character 'x' after object key",
#                             "unexpected end of JSON input"), alone
BEGIN {
  SEP = "\037"
  text = ""
  lines = 0
  for (i = 0; i < 256; i++) ord[sprintf("%c", i)] = i
}

{ text = text (lines++ ? "\n" : "") $0 }

function fail(message) {
  if (failed) return
  failed = 1
  error = message
}

# Go's quoteChar: how a SyntaxError shows the offending byte.
function quote_char(c,   o) {
  if (c == "'") return "'\\''"
  if (c == "\"") return "'\"'"
  if (c == "\\") return "'\\\\'"
  if (c == "\n") return "'\\n'"
  if (c == "\t") return "'\\t'"
  if (c == "\r") return "'\\r'"
  o = ord[c]
  if (o < 32 || o == 127) return sprintf("'\\x%02x'", o)
  return "'" c "'"
}

function bad(c, context) {
  if (pos > len) fail("unexpected end of JSON input")
  else fail("invalid character " quote_char(c) " " context)
}

function esc(s) {
  gsub(/\\/, "\\\\", s)
  gsub(/\n/, "\\n", s)
  gsub(/\t/, "\\t", s)
  return s
}

function join_path(path, seg) { return path == "" ? seg : path SEP seg }
function emit(path, type, value) { out[++nout] = "N\t" path "\t" type "\t" esc(value) }
function peek() { return substr(text, pos, 1) }
function skip_space() { while (pos <= len && index(" \t\r\n", peek())) pos++ }

# A value at pos; after: what the scanner expects next, for its error messages.
function value(path, after,   c) {
  skip_space()
  if (pos > len) { fail("unexpected end of JSON input"); return }
  c = peek()
  if (c == "{") { object(path); return }
  if (c == "[") { array(path); return }
  if (c == "\"") { STR = ""; if (string()) emit(path, "string", STR); return }
  if (c == "-" || c ~ /[0-9]/) { number(path); return }
  if (c == "t") { literal(path, "true"); return }
  if (c == "f") { literal(path, "false"); return }
  if (c == "n") { literal(path, "null"); return }
  bad(c, "looking for beginning of value")
}

function literal(path, word,   i, c) {
  for (i = 1; i <= length(word); i++) {
    c = substr(text, pos + i - 1, 1)
    if (pos + i - 1 > len) { fail("unexpected end of JSON input"); return }
    if (c != substr(word, i, 1)) { fail("invalid character " quote_char(c) " in literal " word " (expecting " quote_char(substr(word, i, 1)) ")"); return }
  }
  pos += length(word)
  emit(path, word, word)
}

function number(path,   start, c) {
  start = pos
  if (peek() == "-") {
    pos++
    c = peek()
    if (pos > len) { fail("unexpected end of JSON input"); return }
    if (c !~ /[0-9]/) { fail("invalid character " quote_char(c) " in numeric literal"); return }
  }
  if (peek() == "0") pos++
  else while (pos <= len && peek() ~ /[0-9]/) pos++
  if (peek() == ".") {
    pos++
    c = peek()
    if (pos > len) { fail("unexpected end of JSON input"); return }
    if (c !~ /[0-9]/) { fail("invalid character " quote_char(c) " after decimal point in numeric literal"); return }
    while (pos <= len && peek() ~ /[0-9]/) pos++
  }
  if (peek() == "e" || peek() == "E") {
    pos++
    if (peek() == "+" || peek() == "-") pos++
    c = peek()
    if (pos > len) { fail("unexpected end of JSON input"); return }
    if (c !~ /[0-9]/) { fail("invalid character " quote_char(c) " in exponent of numeric literal"); return }
    while (pos <= len && peek() ~ /[0-9]/) pos++
  }
  emit(path, "number", substr(text, start, pos - start))
}

# A string at pos (on its opening quote): its decoded text in STR; 0 when it is not JSON.
function string(   c, d, hex, code, i) {
  STR = ""
  pos++
  while (1) {
    if (pos > len) { fail("unexpected end of JSON input"); return 0 }
    c = peek()
    if (c == "\"") { pos++; return 1 }
    if (ord[c] < 32) { fail("invalid character " quote_char(c) " in string literal"); return 0 }
    if (c != "\\") { STR = STR c; pos++; continue }
    pos++
    if (pos > len) { fail("unexpected end of JSON input"); return 0 }
    d = peek()
    pos++
    if (d == "\"" || d == "\\" || d == "/") STR = STR d
    else if (d == "b") STR = STR "\b"
    else if (d == "f") STR = STR "\f"
    else if (d == "n") STR = STR "\n"
    else if (d == "r") STR = STR "\r"
    else if (d == "t") STR = STR "\t"
    else if (d == "u") {
      code = 0
      for (i = 0; i < 4; i++) {
        if (pos > len) { fail("unexpected end of JSON input"); return 0 }
        hex = tolower(peek())
        if (hex !~ /[0-9a-f]/) { fail("invalid character " quote_char(peek()) " in \\u hexadecimal character escape"); return 0 }
        code = code * 16 + index("0123456789abcdef", hex) - 1
        pos++
      }
      # Only ASCII is decoded; the stand-in's callers want nothing else.
      STR = STR (code < 128 ? sprintf("%c", code) : "\\u" sprintf("%04x", code))
    } else { fail("invalid character " quote_char(d) " in string escape code"); return 0 }
  }
}

function object(path,   key, c, n) {
  emit(path, "object", "")
  pos++
  skip_space()
  if (peek() == "}") { pos++; return }
  n = 0
  while (!failed) {
    skip_space()
    c = peek()
    if (c != "\"") { bad(c, "looking for beginning of object key string"); return }
    if (!string()) return
    key = join_path(path, STR)
    if ((key, "seen") in seen) out[++nout] = "D\t" key
    seen[key, "seen"] = 1
    skip_space()
    c = peek()
    if (c != ":") { bad(c, "after object key"); return }
    pos++
    value(key)
    if (failed) return
    skip_space()
    c = peek()
    if (c == ",") { pos++; continue }
    if (c == "}") { pos++; return }
    bad(c, "after object key:value pair")
    return
  }
}

function array(path,   i, c) {
  emit(path, "array", "")
  pos++
  skip_space()
  if (peek() == "]") { pos++; return }
  for (i = 0; !failed; i++) {
    value(join_path(path, "[" i "]"))
    if (failed) return
    skip_space()
    c = peek()
    if (c == ",") { pos++; continue }
    if (c == "]") { pos++; return }
    bad(c, "after array element")
    return
  }
}

END {
  len = length(text)
  pos = 1
  value("")
  skip_space()
  if (!failed && pos <= len) bad(peek(), "after top-level value")
  if (failed) { print "E\t" error; exit }
  for (i = 1; i <= nout; i++) print out[i]
}
