#!/bin/sh
# Makes the example's sample images in DIR, of different sizes and formats (batch-prepare
# makes them all 320x240 PNGs). Runs inside the ImageMagick image, which has the tools
# (nothing binary is kept in the repository):
#
#   scar image run -v "$PWD/conf/examples/batch-stage:/example:ro" -v "$PWD/photos:/out" \
#       127.0.0.1:4566/scar-examples/imagemagick:1 -- sh /example/make-samples.sh /out
set -e
out=${1:?usage: make-samples.sh DIR}
convert rose: "$out/rose.jpg"                               # ImageMagick's built-in photo, 70x46
convert logo: "$out/logo.png"                               # its logo, 640x480
convert -size 200x300 plasma:fractal "$out/plasma.png"      # random colour clouds, portrait
ls "$out"
