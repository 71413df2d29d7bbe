#!/usr/bin/env bash
# Usage: scripts/check_layout.sh
# Checks that lb/ keeps the layering the README's "Architecture" draws: a
# folder includes only from itself and the folders below it, common/ and
# backend/ include nothing from lb/, and lb/ holds no loose file but main.cpp.
# Prints one line per violation and exits 1 if there is any. ctest runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Top to bottom: each folder may include from the ones after it.
layers=(config proxy operations balancing routing protection http acme transport)

rank() {
  local i
  for i in "${!layers[@]}"; do
    [[ "${layers[$i]}" == "$1" ]] && { echo "$i"; return; }
  done
  echo -1
}

violations=0
fail() {
  echo "layout: $1" >&2
  violations=$((violations + 1))
}

for path in lb/*; do
  name=${path#lb/}
  if [[ -d "$path" ]]; then
    [[ $(rank "$name") -ge 0 ]] || fail "lb/$name/ is not in the layer list (scripts/check_layout.sh, README Architecture)"
  elif [[ "$name" != main.cpp && "$name" != CMakeLists.txt ]]; then
    fail "lb/$name belongs in one of the folders: ${layers[*]}"
  fi
done

for folder in "${layers[@]}"; do
  own=$(rank "$folder")
  for file in lb/"$folder"/*; do
    while IFS= read -r included; do
      [[ -z "$included" ]] && continue
      [[ $(rank "$included") -ge "$own" ]] ||
        fail "$file includes lb/$included/, which stands above lb/$folder/"
    done < <(sed -n 's|^#include "lb/\([a-z_]*\)/.*|\1|p' "$file" | sort -u)
  done
done

while IFS= read -r hit; do
  fail "$hit: common/ and backend/ never include lb/"
done < <(grep -rn '^#include "lb/' common backend || true)

if [[ $violations -gt 0 ]]; then
  echo "layout: $violations violation(s)" >&2
  exit 1
fi
echo "layout: lb/ keeps its layers (${layers[*]})"
