# Shared by the stand-in ctr and crictl (sourced after common.sh): containerd's image store in the k8s.io namespace.
#   $IMAGES/<name, % and / escaped>   one file per image name: id=sha256:<config digest>, name=<name as stored>
#   $IMAGE_CONTENT/<hex>/              per image id: config.json (the image config) and meta (size=, chainID=)
#   $IMAGES_LOG                        what was received: `import <id> <names...> snapshotter=<S> bytes=<n>`, `tag <src> <dst>`

IMAGES=$STATE/images
IMAGE_CONTENT=$STATE/image-content
IMAGES_LOG=$STATE/images.log

# The CRI's snapshotter: overlayfs, unless a test wrote another into /etc/standin/snapshotter.
cri_snapshotter() {
  if [ -f /etc/standin/snapshotter ]; then tr -d ' \t\r\n' </etc/standin/snapshotter; else echo overlayfs; fi
}

image_file() { printf '%s/%s' "$IMAGES" "$(printf '%s' "$1" | sed 's/%/%25/g; s#/#%2F#g')"; }

# store_image NAME ID: the name points at the image from now on (an existing name is overwritten, as containerd does).
store_image() {
  mkdir -p "$IMAGES"
  _f=$(image_file "$1")
  printf 'id=%s\nname=%s\n' "$2" "$1" >"$_f.tmp"
  mv "$_f.tmp" "$_f"
}

# The id a stored name points at (the name exactly as stored: containerd does not normalise it).
image_id() { kv "$(image_file "$1")" id; }

# Every stored image: `<id><TAB><name>` lines.
image_table() {
  set -- "$IMAGES"/*
  [ -e "$1" ] || return 0
  awk '
    FNR == 1 { id = "" }
    /^id=/ { id = substr($0, 4) }
    /^name=/ { print id "\t" substr($0, 6) }' "$@"
}

log_images() { printf '%s\n' "$*" >>"$IMAGES_LOG"; }
