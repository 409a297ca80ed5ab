#!/bin/sh
# Makes the example's input video DIR/clip.mp4: FFmpeg's test pattern, SECONDS long at FPS
# frames per second (default 2 s at 5 fps: 10 frames), 160x120, H.264. Runs inside the
# FFmpeg image:
#
#   scar image run -v "$PWD/conf/examples/video-frames:/example:ro" -v "$PWD/video:/out" \
#       127.0.0.1:4566/scar-examples/ffmpeg:1 -- sh /example/make-video.sh /out
set -e
out=${1:?usage: make-video.sh DIR [SECONDS] [FPS]}
seconds=${2:-2}
fps=${3:-5}
ffmpeg -hide_banner -loglevel error -y -f lavfi -i "testsrc=duration=$seconds:size=160x120:rate=$fps" \
  -c:v libx264 -pix_fmt yuv420p "$out/clip.mp4"
echo "clip.mp4: $seconds s at $fps fps"
