#!/bin/sh
# video-split: one PNG per frame of the uploaded video, in a folder named after the video
# (frames/clip/0001.png …). Each uploaded frame triggers frame-gray.
set -e
name=$(basename "$INPUT_FILE_PATH")
stem=${name%.*}
mkdir -p "$TMP_OUTPUT_DIR/$stem"
ffmpeg -hide_banner -loglevel error -i "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/$stem/%04d.png"
probe() { ffprobe -v error -select_streams v:0 -show_entries "stream=$1" -of csv=p=0 "$INPUT_FILE_PATH"; }
echo "video-split: $name, $(probe duration) s at $(probe r_frame_rate) fps -> $(find "$TMP_OUTPUT_DIR/$stem" -type f | wc -l) frames"
