#!/bin/sh
# batch-render (an AWS Batch job, FFmpeg): runs once per prepared image, inside the job
# that batch-render's Lambda submitted ($AWS_BATCH_JOB_ID is set). Renders a zoom-in on the
# image's centre, VIDEO_SECONDS seconds at VIDEO_FPS frames per second (the job
# definition's environment, [function.batch.environment]), 320x240 H.264 in an MP4, into
# $TMP_OUTPUT_DIR, which the supervisor uploads to scar-batch/videos.
set -e
seconds=${VIDEO_SECONDS:-3}
fps=${VIDEO_FPS:-12}
frames=$((seconds * fps))
name=$(basename "$INPUT_FILE_PATH")
stem=${name%.*}
out="$TMP_OUTPUT_DIR/$stem.mp4"
ffmpeg -hide_banner -loglevel error -y -i "$INPUT_FILE_PATH" \
  -vf "zoompan=z='min(zoom+0.5/$frames,1.5)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=$frames:s=320x240:fps=$fps,format=yuv420p" \
  -frames:v "$frames" -c:v libx264 -preset veryfast "$out"
count=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$out")
echo "batch-render: job $AWS_BATCH_JOB_ID, $STORAGE_OBJECT_KEY -> $stem.mp4 ($count frames at $fps fps, $(wc -c <"$out") bytes)"
