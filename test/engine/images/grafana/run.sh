#!/bin/sh
# Like the official /run.sh: every GF_*__FILE variable becomes GF_* with the file's content.
set -e
for var in $(env | sed -n 's/^\(GF_[A-Za-z0-9_]*__FILE\)=.*/\1/p'); do
    file=$(printenv "$var")
    name=${var%__FILE}
    if [ ! -r "$file" ]; then
        echo "run.sh: $var names $file, which cannot be read" >&2
        exit 1
    fi
    export "$name=$(cat "$file")"
    unset "$var"
done
exec python3 /usr/share/grafana/imitation.py "$@"
