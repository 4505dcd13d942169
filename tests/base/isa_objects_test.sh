#!/usr/bin/env bash
# Fails if an object compiled with ISA flags (its source is *_avx2.cc or
# *_avx512*.cc) defines a weak function (nm type W): inline and template
# functions land there, and the linker may keep that copy for every caller.
# The optimiser hides most such copies by inlining them, so the sources are
# checked too: the only std:: names an ISA file may use are the C library's.
# Arguments: the source root, then CMake object lists (';'-separated).
set -euo pipefail
root=$1; shift
checked=0 bad=0
while IFS= read -r src; do
  uses=$(grep -noE 'std::[A-Za-z_]+' "$src" | grep -vE 'std::(memcpy|memset|memmove|size_t|u?int[0-9]+_t)$' || true)
  if [ -n "$uses" ]; then
    echo "$src uses the standard library beyond the C functions:"; echo "$uses"; bad=1
  fi
done < <(find "$root" -path "$root/build*" -prune -o \( -name '*_avx2.cc' -o -name '*_avx512*.cc' \) -print)
for list in "$@"; do
  IFS=';' read -ra objs <<< "$list"
  for o in "${objs[@]}"; do
    case "$(basename "$o")" in *_avx2.cc.o|*_avx512*.cc.o) ;; *) continue ;; esac
    checked=$((checked + 1))
    weak=$(nm -C --defined-only "$o" | awk '$2 == "W"')
    if [ -n "$weak" ]; then
      echo "$o defines weak functions:"; echo "$weak"; bad=1
    fi
  done
done
[ "$checked" -gt 0 ] || { echo "no ISA-flagged objects found in the arguments" >&2; exit 1; }
echo "checked $checked ISA-flagged objects"
exit $bad
