#!/bin/sh
# Both functions of http-api run this once per HTTP request, inside the ImageMagick image.
# The supervisor has written the request's body (the uploaded image) to $INPUT_FILE_PATH
# and made each query parameter a CONT_VAR_<name> variable. The thumbnail goes to
# $TMP_OUTPUT_DIR: http-thumbnail (no output) answers with that file, http-thumbnail-store
# uploads it to scar-http/thumbnails and answers with what this script prints.
set -e
refuse() {
  echo "http-thumbnail: $*" >&2
  exit 2
}
width=${CONT_VAR_width:-128}
case $width in
  "" | *[!0-9]* | 0*) refuse "width must be a number of pixels from 1 to 2000, such as ?width=64; got '$width'" ;;
esac
[ "$width" -le 2000 ] || refuse "width must be a number of pixels from 1 to 2000, such as ?width=64; got '$width'"
name=${CONT_VAR_name:-$REQUEST_ID}
case $name in
  "" | .* | *[!A-Za-z0-9._-]*) refuse "name may have only letters, digits, '.', '_' and '-', and not start with '.'; got '$name'" ;;
esac
out="$TMP_OUTPUT_DIR/$name.png"
# -strip and no date or time chunks: the same image and width always give the same bytes.
convert "$INPUT_FILE_PATH" -strip -thumbnail "${width}x" -colorspace Gray \
  -define png:exclude-chunks=date,time "$out"
echo "http-thumbnail: $(identify -format '%m %wx%h' "$INPUT_FILE_PATH") -> $name.png ($(identify -format '%wx%h' "$out") Gray, $(wc -c <"$out") bytes)"
