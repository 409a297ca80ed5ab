#!/bin/sh
# Makes the example's sample images in DIR. Runs inside the ImageMagick image, which has
# the tools (nothing binary is kept in the repository):
#
#   scar image run -v "$PWD/conf/examples/grayify:/example:ro" -v "$PWD/samples:/out" \
#       127.0.0.1:4566/scar-examples/imagemagick:1 -- sh /example/make-samples.sh /out
set -e
out=${1:?usage: make-samples.sh DIR}
convert rose: "$out/rose.jpg"                                   # ImageMagick's built-in photo
convert logo: -resize 160x120 "$out/logo.png"                   # and its logo
convert -size 128x96 plasma:fractal "$out/plasma.png"           # random colour clouds
convert -size 128x96 gradient:orange-navy -rotate 90 "$out/gradient.jpg"
ls "$out"
