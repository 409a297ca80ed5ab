#!/bin/sh
# batch-prepare (Lambda, ImageMagick): runs once per uploaded image and writes it to
# $TMP_OUTPUT_DIR as a 320x240 PNG, whatever its size and format: scaled to cover 320x240,
# then cropped around the centre; 8 bits per channel, metadata and timestamps dropped.
# The PNG lands in scar-batch/prepared, which triggers batch-render.
set -e
name=$(basename "$INPUT_FILE_PATH")
stem=${name%.*}
convert "$INPUT_FILE_PATH" -strip -resize '320x240^' -gravity center -extent 320x240 -depth 8 \
  -define png:exclude-chunks=date,time "$TMP_OUTPUT_DIR/$stem.png"
echo "batch-prepare: $STORAGE_OBJECT_KEY ($(identify -format '%m %wx%h' "$INPUT_FILE_PATH")) -> $stem.png (320x240)"
