#!/bin/sh
# Runs once per uploaded image, inside the ImageMagick image. The supervisor has downloaded
# the object to $INPUT_FILE_PATH; every file written to $TMP_OUTPUT_DIR is uploaded to the
# function's output folder (scar-out/gray) under the same name. `-strip` drops the input's
# metadata, among it a PNG's original colour type, which ImageMagick 6 would otherwise keep
# (the gray copy of a colour PNG would be written as RGB or palette, not as a gray PNG).
set -e
name=$(basename "$INPUT_FILE_PATH")
convert "$INPUT_FILE_PATH" -strip -colorspace Gray "$TMP_OUTPUT_DIR/$name"
echo "grayify: $STORAGE_OBJECT_KEY -> $name ($(identify -format '%wx%h %[colorspace]' "$TMP_OUTPUT_DIR/$name"))"
