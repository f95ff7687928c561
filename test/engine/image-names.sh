# shellcheck shell=bash
# Sourced by build-images.sh and smoke-images.sh (which set $root, the repository): where
# the names of the images the program runs come from.
: "${root:?image-names.sh needs \$root, the repository}"

# The default of a config key in Pulumi.yaml: "  key:" at two spaces, then "    default: value".
pulumi_default() {
    awk -v key="$1" '
        /^  [A-Za-z0-9_]+:/ { current = $1; sub(":$", "", current) }
        current == key && /^    default:/ {
            sub(/^    default:[ ]*/, ""); gsub(/^["'\'']|["'\'']$/, ""); print; exit
        }' "$root/Pulumi.yaml"
}

# The image a Dockerfile starts FROM (its first FROM line).
from_of() { awk 'toupper($1) == "FROM" { print $2; exit }' "$1"; }
