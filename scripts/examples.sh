#!/usr/bin/env bash
# Builds the images of the examples from Debian 12 packages and imports them into the local
# emulator's ECR. Debian's archive is the only network used, and only for packages not yet
# downloaded; a second run reuses everything and takes seconds.
#
#   scripts/examples.sh [--out DIR] [--endpoint URL] [--image NAME]... [--no-import] [--check]
#
# Images (repository scar-examples/<name>, tag 1):
#   busybox      busybox-static: /bin/sh and the usual applets
#   imagemagick  ImageMagick 6 (convert, identify, …) + busybox
#   ffmpeg       FFmpeg 5 (ffmpeg, ffprobe) + busybox
#
# How an image is made: apt resolves the package and its Depends closure against an empty
# dpkg status (as if nothing were installed) and downloads the .deb files into DIR/debs;
# each is unpacked with `dpkg-deb -x`; docs, manuals and locales are dropped, and so is every
# shared library that no program of the image needs (the DT_NEEDED closure, read with
# readelf: Mesa's drivers and LLVM go, for instance). Links that Debian makes with
# update-alternatives (BLAS, LAPACK) are made by hand, and the script fails if any needed
# library is missing. The result is DIR/rootfs/<name>, rebuilt only when the package
# versions or this script change.
#
# Options:
#   --out DIR        where debs, root filesystems and stamps live
#                    (default $SCAR_EXAMPLES_DIR, else build/examples)
#   --endpoint URL   the emulator to import into (default: the one `scar local up` runs,
#                    started when it is not running)
#   --image NAME     only this image (busybox, imagemagick, ffmpeg); may be repeated
#   --no-import      only build the root filesystems
#   --check          after importing, run each image's main program in a sandboxed
#                    container (`scar image run`) and print its version
#
# Environment: SCAR (the scar program, default build/bin/scar), SCAR_HOME,
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (default test/test, the emulator's).
# Exit status: 0 done; 1 error; 75 the Debian packages cannot be downloaded (no network or
# no apt sources), so callers such as the tests can skip.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${SCAR_EXAMPLES_DIR:-$top/build/examples}
scar=${SCAR:-$top/build/bin/scar}
endpoint=""
import=1
check=0
only=()

say() { echo "examples: $*"; }
trace() { if [ -n "${EXAMPLES_TRACE:-}" ]; then say "$@"; fi; }
die() {
  echo "examples: $*" >&2
  exit 1
}
unavailable() {
  echo "examples: $*" >&2
  exit 75
}

while (($#)); do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --endpoint) endpoint=${2:?--endpoint needs a URL such as http://127.0.0.1:4566}; shift 2 ;;
    --endpoint=*) endpoint=${1#--endpoint=}; shift ;;
    --image) only+=("${2:?--image needs a name: busybox, imagemagick or ffmpeg}"); shift 2 ;;
    --image=*) only+=("${1#--image=}"); shift ;;
    --no-import) import=0; shift ;;
    --check) check=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1'; see scripts/examples.sh --help" ;;
  esac
done

for tool in apt-get dpkg-deb readelf curl flock perl; do
  command -v "$tool" >/dev/null || die "'$tool' is missing; this script needs Debian's apt, dpkg and binutils (run scripts/setup.sh)"
done
mkdir -p "$out/debs/partial" "$out/apt/cache" "$out/rootfs"
out=$(cd "$out" && pwd)
: >"$out/apt/status" # nothing installed: apt resolves the whole closure

# The images: packages, library folders whose modules are loaded at run time (kept whole),
# and the image's CMD.
image_names=(busybox imagemagick ffmpeg)
if ((${#only[@]})); then
  for name in "${only[@]}"; do
    [[ " ${image_names[*]} " == *" $name "* ]] || die "no image '$name'; the images are: ${image_names[*]}"
  done
  image_names=("${only[@]}")
fi
declare -A packages=(
  [busybox]="busybox-static"
  [imagemagick]="imagemagick busybox-static"
  [ffmpeg]="ffmpeg busybox-static"
)
declare -A module_dirs=(
  [busybox]=""
  [imagemagick]="usr/lib/x86_64-linux-gnu/ImageMagick-*"
  [ffmpeg]=""
)
# Debian names some programs through update-alternatives, in maintainer scripts that
# `dpkg-deb -x` does not run (and that must not run on this machine): /usr/bin/convert →
# convert-im6.q16. Programs in /usr/bin ending with this suffix get the plain name too.
declare -A alternative_suffix=(
  [busybox]=""
  [imagemagick]="-im6.q16"
  [ffmpeg]=""
)
declare -A image_cmd=(
  [busybox]="/bin/sh"
  [imagemagick]="convert -version"
  [ffmpeg]="ffmpeg -version"
)

apt_opts=(
  -o "Dir::State::status=$out/apt/status"
  -o "Dir::Cache=$out/apt/cache"
  -o "Dir::Cache::pkgcache=$out/apt/cache/pkgcache.bin" # Debian's docker images turn the caches off
  -o "Dir::Cache::srcpkgcache=$out/apt/cache/srcpkgcache.bin"
  -o "Dir::Cache::archives=$out/debs"
  -o Debug::NoLocking=1
  -o "APT::Sandbox::User=$(id -un)"
  -o APT::Install-Recommends=false
)

# apt-get update with the host's sources, as root (or through sudo).
update_lists() {
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || unavailable "the apt package lists are missing or stale and only root can refresh them: run 'apt-get update' as root"
    sudo=sudo
  fi
  say "refreshing the apt package lists (apt-get update)"
  $sudo apt-get update -qq || unavailable "apt-get update failed: Debian's archive is not reachable (the first run needs it; later runs use $out/debs)"
}

# Prints "filename size" for every .deb of the packages' closure. (apt prints no URI for a
# package already in its archives folder, so resolving looks at an empty one.)
resolve() {
  local text opts=("${apt_opts[@]}" -o "Dir::Cache::archives=$out/apt/none")
  mkdir -p "$out/apt/none/partial"
  if ! text=$(apt-get install --print-uris -qq "${opts[@]}" "$@" 2>&1); then
    update_lists
    text=$(apt-get install --print-uris -qq "${opts[@]}" "$@" 2>&1) ||
      unavailable "apt cannot resolve '$*': $text"
  fi
  awk '/^'\''/ {print $2, $3}' <<<"$text"
}

# Where the .deb of a print-uris file name is: apt stores epochs as %3a in the name.
deb_path() {
  local f=$1 name=${1%%_*} rest=${1#*_} hit
  if [ -f "$out/debs/$f" ]; then
    echo "$out/debs/$f"
    return
  fi
  for hit in "$out/debs/${name}_"*"%3a$rest"; do
    [ -f "$hit" ] && { echo "$hit"; return; }
  done
  return 1
}

# Downloads what $out/debs lacks; debs already in the host's apt cache are linked first.
download() {
  local files=$1 f name rest host
  shift
  for f in $files; do
    deb_path "$f" >/dev/null && continue
    name=${f%%_*} rest=${f#*_}
    for host in "/var/cache/apt/archives/$f" "/var/cache/apt/archives/${name}_"*"%3a$rest"; do
      [ -f "$host" ] || continue
      ln -f "$host" "$out/debs/" 2>/dev/null || cp "$host" "$out/debs/"
    done
  done
  if ! apt-get install -d -y -qq "${apt_opts[@]}" "$@" >/dev/null 2>"$out/apt/download.log"; then
    update_lists # a 404 means the lists name versions the archive no longer has
    apt-get install -d -y -qq "${apt_opts[@]}" "$@" >/dev/null 2>"$out/apt/download.log" ||
      unavailable "cannot download the Debian packages of '$*' (no network?): $(tail -3 "$out/apt/download.log")"
  fi
}

# "/a/./b/../c" → "/a/c", without looking at the file system.
normalize() {
  local part
  local -a parts=() path
  IFS=/ read -r -a path <<<"$1"
  for part in "${path[@]}"; do
    case $part in
      "" | .) ;;
      ..) ((${#parts[@]})) && unset 'parts[-1]' ;;
      *) parts+=("$part") ;;
    esac
  done
  local IFS=/
  printf '/%s' "${parts[*]}"
}

# The path a file inside the rootfs resolves to, following symlinks inside the rootfs
# (an absolute link target means the rootfs's /, never the host's).
in_root() {
  local root=$1 p=$2 n=0 t
  while [ -L "$root$p" ] && ((n++ < 40)); do
    t=$(readlink "$root$p")
    case $t in
      /*) p=$(normalize "$t") ;;
      *) p=$(normalize "${p%/*}/$t") ;;
    esac
  done
  printf '%s' "$p"
}

lib_dirs=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /lib /usr/lib)

# Keeps only the shared libraries the image's programs and modules need; checks that every
# needed library is there.
prune_libraries() {
  local root=$1 modules=$2 kind value rel="" soname lib key dirs d
  local -A needed=() rpath=() keep=() found=()
  local -a queue=() libs=()
  # One readelf over every file: non-ELF files print nothing; "File:" heads each ELF file
  # (the /dev/null argument makes readelf print it even for a single file).
  while IFS=$'\t' read -r kind value; do
    case $kind in
      F)
        rel=/${value#"$root"/}
        needed[$rel]=""
        case $rel in
          /bin/* | /sbin/* | /usr/bin/* | /usr/sbin/* | /usr/libexec/*) queue+=("$rel") ;;
          */ld-linux*.so* | */libnss_*.so* | */libgcc_s.so*) queue+=("$rel") ;; # loaded by glibc itself
          */gconv/*) queue+=("$rel") ;;                                          # loaded by iconv by name
          *.so | *.so.*) libs+=("$rel") ;;
          *) queue+=("$rel") ;; # helper programs under lib/
        esac
        ;;
      N) needed[$rel]+="$value " ;;
      R) rpath[$rel]=$value ;;
    esac
  done < <(find "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/lib" "$root/lib64" \
    "$root/usr/lib" "$root/usr/libexec" -type f -print0 2>/dev/null |
    xargs -0 readelf -d /dev/null 2>/dev/null |
    sed -n -e 's/^File: \(.*\)$/F\t\1/p' -e 's/.*(NEEDED).*\[\(.*\)\]$/N\t\1/p' \
      -e 's/.*(RUN\{0,1\}PATH).*\[\(.*\)\]$/R\t\1/p')
  # Modules loaded by name at run time (ImageMagick's coders) are roots too.
  for rel in "${libs[@]}"; do
    for d in $modules; do
      # shellcheck disable=SC2053 # $d is a glob on purpose
      [[ ${rel#/} == $d/* ]] && queue+=("$rel")
    done
  done
  while ((${#queue[@]})); do
    rel=${queue[-1]}
    unset 'queue[-1]'
    [ -n "${keep[$rel]:-}" ] && continue
    keep[$rel]=1
    for soname in ${needed[$rel]:-}; do
      # RUNPATH/RPATH folders first, then the loader's default folders.
      dirs=${rpath[$rel]:-}
      dirs=${dirs//\$ORIGIN/${rel%/*}}
      key="$soname|$dirs"
      if [ -z "${found[$key]:-}" ]; then
        lib=""
        local -a search=()
        IFS=: read -r -a search <<<"$dirs"
        for d in "${search[@]}" "${lib_dirs[@]}"; do
          if [ -e "$root$d/$soname" ] || [ -L "$root$d/$soname" ]; then
            lib=$(in_root "$root" "$d/$soname")
            break
          fi
        done
        if [ -z "$lib" ]; then
          # update-alternatives links (libblas.so.3 → blas/libblas.so.3) are made by a
          # maintainer script that dpkg-deb -x does not run: make them here.
          lib=$(cd "$root" && find usr/lib lib -name "$soname" \( -type f -o -type l \) -print -quit 2>/dev/null) || true
          [ -n "$lib" ] || die "$rel needs $soname, which no package of the image provides"
          case $lib in
            usr/lib/x86_64-linux-gnu/*) ln -s "${lib#usr/lib/x86_64-linux-gnu/}" "$root/usr/lib/x86_64-linux-gnu/$soname" ;;
            *) ln -s "/$lib" "$root/usr/lib/x86_64-linux-gnu/$soname" ;;
          esac
          lib=$(in_root "$root" "/usr/lib/x86_64-linux-gnu/$soname")
        fi
        found[$key]=$lib
      fi
      queue+=("${found[$key]}")
    done
  done
  local -a unused=()
  for rel in "${libs[@]}"; do
    [ -n "${keep[$rel]:-}" ] || unused+=("$root$rel")
  done
  ((${#unused[@]} == 0)) || rm -f "${unused[@]}"
  # Links left dangling (relative ones: find would follow an absolute one on the host) and
  # folders left empty.
  find "$root" -xtype l ! -lname '/*' -delete 2>/dev/null || true
  find "$root/usr/lib" "$root/lib" -depth -type d -empty -delete 2>/dev/null || true
  echo "${#unused[@]}"
}

# Builds $out/rootfs/<name> unless it was built by this script from the same package
# versions. The quick stamp (this script, the packages asked for, the apt lists' dates)
# avoids asking apt at all when nothing changed.
build_rootfs() {
  local name=$1 list files debs_id quick dest="$out/rootfs/$1" tmp
  quick=$( (echo "$recipe ${packages[$name]}"; stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null || true) |
    sha256sum | cut -c1-64)
  if [ -d "$dest" ] && [ "$(cat "$dest.key" 2>/dev/null)" = "$quick" ]; then
    say "$name: up to date ($(du -sm "$dest" | cut -f1) MB) in $dest"
    return
  fi
  # shellcheck disable=SC2086 # package lists are words
  list=$(resolve ${packages[$name]})
  files=$(awk '{print $1}' <<<"$list" | sort)
  debs_id=$( (echo "$recipe"; echo "$files") | sha256sum | cut -c1-64)
  if [ -d "$dest" ] && [ "$(cat "$dest.debs" 2>/dev/null)" = "$debs_id" ]; then
    echo "$quick" >"$dest.key"
    say "$name: up to date ($(wc -l <<<"$files") packages, $(du -sm "$dest" | cut -f1) MB) in $dest"
    return
  fi
  local t0=$SECONDS
  # shellcheck disable=SC2086
  download "$files" ${packages[$name]}
  trace "$name: downloaded at $((SECONDS - t0)) s"
  tmp="$dest.tmp"
  rm -rf "$tmp" "$dest"
  mkdir -p "$tmp"
  local debs=() f
  for f in $files; do
    debs+=("$(deb_path "$f")") || die "apt downloaded no $f"
  done
  printf '%s\0' "${debs[@]}" | xargs -0 -P "$(nproc)" -I{} dpkg-deb -x {} "$tmp"
  rm -rf "$tmp"/usr/share/{doc,doc-base,man,info,locale,lintian,bug,menu,bash-completion,zsh,gtk-doc,help} \
    "$tmp/usr/include" "$tmp"/usr/lib/*/pkgconfig "$tmp/usr/share/pkgconfig"
  find "$tmp" -name '*.a' -type f -delete
  # busybox: /bin/sh and every applet the packages do not provide themselves.
  local applet d
  local -a applets=()
  while read -r applet; do
    for d in bin sbin usr/bin usr/sbin; do
      [ -e "$tmp/$d/$applet" ] || [ -L "$tmp/$d/$applet" ] && continue 2
    done
    applets+=("$applet")
  done < <("$tmp/bin/busybox" --list)
  (cd "$tmp/bin" && perl -e 'symlink("busybox", $_) or die "$_: $!\n" for @ARGV' "${applets[@]}")
  local suffix=${alternative_suffix[$name]} program
  if [ -n "$suffix" ]; then
    for program in "$tmp/usr/bin/"*"$suffix"; do
      [ -e "${program%"$suffix"}" ] || ln -s "${program##*/}" "${program%"$suffix"}"
    done
  fi
  mkdir -p "$tmp/tmp" "$tmp/proc" "$tmp/dev" "$tmp/var/task"
  chmod 1777 "$tmp/tmp"
  trace "$name: unpacked at $((SECONDS - t0)) s"
  local removed
  removed=$(prune_libraries "$tmp" "${module_dirs[$name]}")
  mv "$tmp" "$dest"
  echo "$debs_id" >"$dest.debs"
  echo "$quick" >"$dest.key"
  say "$name: built from $(wc -l <<<"$files") packages in $((SECONDS - t0)) s ($removed unused libraries dropped, $(du -sm "$dest" | cut -f1) MB) in $dest"
}

# What decides a rootfs's content besides the packages: the code that makes it.
recipe=$( (declare -f build_rootfs prune_libraries in_root normalize; declare -p alternative_suffix module_dirs) |
  sha256sum | cut -c1-64)
# One build at a time in $out (tests run in parallel); imports need no lock.
exec 9>"$out/.lock"
flock 9
for name in "${image_names[@]}"; do build_rootfs "$name"; done
exec 9>&-
((import)) || exit 0

# Import into the emulator's ECR.
if [ -z "$endpoint" ]; then
  [ -x "$scar" ] || die "no scar program at $scar; build it (scripts/build.sh) or set SCAR"
  "$scar" local up >/dev/null
  endpoint=$(cat "${SCAR_HOME:-$HOME/.scar}/emulator.endpoint")
fi
export AWS_ENDPOINT_URL=$endpoint
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-us-east-1}
registry=${endpoint#*://}
registry=${registry%%/*}

create_repository() {
  local answer
  answer=$(curl -sS --aws-sigv4 "aws:amz:$AWS_DEFAULT_REGION:ecr" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.CreateRepository" \
    -H "Content-Type: application/x-amz-json-1.1" \
    -d "{\"repositoryName\":\"$1\"}" "$endpoint/") || die "the emulator at $endpoint does not answer; start it with: scar local up"
  case $answer in
    *repositoryArn* | *RepositoryAlreadyExists*) ;;
    *) die "ECR CreateRepository $1 at $endpoint failed: $answer" ;;
  esac
}

for name in "${image_names[@]}"; do
  ref="$registry/scar-examples/$name:1"
  create_repository "scar-examples/$name"
  cmd_args=()
  for word in ${image_cmd[$name]}; do cmd_args+=("--cmd=$word"); done
  t0=$SECONDS
  "$scar" image import "$out/rootfs/$name" "$ref" "${cmd_args[@]}" >/dev/null
  say "$name: imported as $ref in $((SECONDS - t0)) s"
done

# shellcheck disable=SC2034 # the check_* arrays are read through `declare -n`
if ((check)); then
  check_busybox=(sh -c 'busybox | head -1')
  check_imagemagick=(convert -version)
  check_ffmpeg=(ffmpeg -version)
  for name in "${image_names[@]}"; do
    declare -n words="check_$name"
    # A pull first: `image run` would start a tag unpacked before this import.
    "$scar" image pull "$registry/scar-examples/$name:1" >/dev/null
    first=$("$scar" image run "$registry/scar-examples/$name:1" -- "${words[@]}" | head -1) ||
      die "$name: '${words[*]}' does not run in the image"
    say "$name: '${words[*]}' in a sandboxed container: $first"
    unset -n words
  done
fi
