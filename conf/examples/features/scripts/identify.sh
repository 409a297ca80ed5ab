#! /bin/sh
# Prints what ImageMagick knows about the input image.
identify "$INPUT_FILE_PATH"
