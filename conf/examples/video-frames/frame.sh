#!/bin/sh
# frame-gray: runs once per frame. The frame's key (frames/clip/0001.png) keeps the video's
# folder in the output: processed/clip/0001.png, half size, grayscale (-strip: see
# grayify.sh).
set -e
rel=${STORAGE_OBJECT_KEY#*/}
mkdir -p "$TMP_OUTPUT_DIR/$(dirname "$rel")"
convert "$INPUT_FILE_PATH" -strip -resize 50% -colorspace Gray "$TMP_OUTPUT_DIR/$rel"
echo "frame-gray: $STORAGE_OBJECT_KEY -> $rel"
